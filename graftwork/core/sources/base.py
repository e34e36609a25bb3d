"""What every source kind provides to the pipeline: its examples.

Budget, build, the workstation's token gauge and the teacher ask the workspace recipe's
`ExampleProvider` (see graftwork.core.recipes) for examples; they never look at widget
folders or other source tables themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from graftwork.core.dataset.examples import Example


@dataclass(frozen=True)
class Candidate:
    """An item that can become an example, before its (possibly costly) content is read:
    its id, its current prompt (the user turn) and a hash of everything else that goes into
    the example (``ident``; None when unknown), so counts can be cached by ingredients."""

    item_id: str
    prompt: str
    ident: str | None = None
    ref: str = ""  # source-specific locator (a widget's folder, an example revision, ...)


class ExampleProvider(Protocol):
    """Optional extras a provider may define: ``examples(db, cands)`` (bulk reading, see
    `load_examples`) and ``read_ident(cand, example)``: the ingredients hash of what the
    example was actually made from (the token cache stores counts under it, so a stale
    ``cand.ident`` only misses, never lies; default: ``cand.ident``), and ``splits(db)``:
    the recipe's own split fractions ({train, valid, test}) and seed, or None. When it gives
    them, build puts each example by `splits.assign_split` of its split key with those (not
    the project's splits, not the set's recorded ones), so build agrees with the recipe's own
    split files (the plan recipe: the spec's fractions and seed, as `graftwork split`)."""

    def candidates(self, db: Any) -> tuple[list[Candidate], list[tuple[str, str]]]:
        """Usable items in catalog order, and the skipped ones with their reason."""
        ...

    def example(self, db: Any, cand: Candidate) -> Example:
        """The complete example; raises ValueError with a one-line cause for a broken item."""
        ...

    def example_for(self, db: Any, item_id: str, prompt: str) -> Example:
        """The example ``item_id`` would give with ``prompt`` as its user turn (the gauge);
        raises ValueError with a one-line cause."""
        ...


def recipe_splits(provider: ExampleProvider, db: Any) -> tuple[dict[str, float], int] | None:
    """The provider's own split fractions and seed (see ExampleProvider), or None."""
    fn = getattr(provider, "splits", None)
    return fn(db) if fn is not None else None


def read_ident(provider: ExampleProvider, cand: Candidate, example: Example) -> str:
    """The provider's `read_ident`, else the candidate's ident (or the example's own hash)."""
    fn = getattr(provider, "read_ident", None)
    return fn(cand, example) if fn is not None else (cand.ident or example.sha256())


def load_examples(
    provider: ExampleProvider, db: Any, cands: Sequence[Candidate]
) -> tuple[list[Example], list[tuple[str, str]]]:
    """Examples of ``cands`` in order, and (item id, cause) for the ones that could not be made.

    A provider may offer ``examples(db, cands)`` with the same result to read many items in one
    query (imports of 100,000 records); otherwise each item is read on its own."""
    bulk = getattr(provider, "examples", None)
    if bulk is not None:
        return bulk(db, cands)
    examples: list[Example] = []
    failed: list[tuple[str, str]] = []
    for cand in cands:
        try:
            examples.append(provider.example(db, cand))
        except (ValueError, OSError) as exc:
            failed.append((cand.item_id, str(exc)))
    return examples, failed
