"""Measure every example with the model's own tokenizer and chat template, before training.

The count is exactly what mlx-lm trains on (ChatDataset renders `messages` with `tools`), so
an example over max_seq_length is caught here instead of being truncated with a stdout warning.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Measured:
    split: str
    line: int  # 1-based line in <split>.jsonl
    tokens: int
    label: str  # item id when known, else "<split>.jsonl:<line>"


def from_counts(split: str, counts: list[int], labels: list[str] | None = None) -> list[Measured]:
    """Label token counts already taken (the child tokenizes once, with ChatDataset.process, for
    measuring and training)."""
    return [
        Measured(
            split,
            i + 1,
            n,
            labels[i] if labels and i < len(labels) and labels[i] else f"{split}.jsonl:{i + 1}",
        )
        for i, n in enumerate(counts)
    ]


def too_long(measured: list[Measured], max_seq_length: int) -> list[Measured]:
    return [m for m in measured if m.tokens > max_seq_length]


def describe(items: list[Measured], max_seq_length: int) -> str:
    shown = "; ".join(f"{m.label} ({m.tokens} tokens)" for m in items[:20])
    more = f"; and {len(items) - 20} more" if len(items) > 20 else ""
    return f"{len(items)} example(s) longer than max_seq_length {max_seq_length}: {shown}{more}"
