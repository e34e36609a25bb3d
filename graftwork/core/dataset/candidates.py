"""Assemble the training examples from the catalog through the workspace recipe's
ExampleProvider (graftwork.core.sources.base): every usable item with a current prompt.
Items that cannot be used are skipped with a reason; items whose content is broken are
failures (the run goes on). Source-specific reading (widget folders, imported revisions)
lives in the providers under graftwork.core.sources."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graftwork.core.dataset.examples import Example
from graftwork.core.prompts.current import current_prompts
from graftwork.core.sources.base import ExampleProvider, load_examples

__all__ = ["Candidates", "current_prompts", "load_candidates", "prompt_skip_reason"]


@dataclass
class Candidates:
    examples: list[Example] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def prompt_skip_reason(current: tuple[str, str] | None) -> str | None:
    """Why an item with this current (text, state) cannot become an example, or None."""
    if current is None:
        return "no prompt yet"
    text, state = current
    if state == "rejected":
        return "current prompt is rejected"
    if not text.strip():
        return "current prompt is empty"
    return None


def load_candidates(db: Any, provider: ExampleProvider) -> Candidates:
    cands, skipped = provider.candidates(db)
    examples, failed = load_examples(provider, db, cands)
    return Candidates(examples=examples, skipped=list(skipped), failed=failed)
