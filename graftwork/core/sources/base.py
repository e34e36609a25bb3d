"""What every source kind provides to the pipeline: its examples.

Budget, build, the workstation's token gauge and the teacher ask the workspace recipe's
`ExampleProvider` (see graftwork.core.recipes) for examples; they never look at widget
folders or other source tables themselves.
"""

from __future__ import annotations

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
    def candidates(self, db: Any) -> tuple[list[Candidate], list[tuple[str, str]]]:
        """Usable items in catalog order, and the skipped ones with their reason."""
        ...

    def example(self, db: Any, cand: Candidate) -> Example:
        """The complete example; raises ValueError with a one-line cause for a broken item."""
        ...

    def example_for(self, db: Any, item_id: str, prompt: str) -> Example:
        """The example ``item_id`` would give with ``prompt`` as its user turn (the gauge)."""
        ...
