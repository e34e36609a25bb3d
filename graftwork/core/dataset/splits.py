"""Deterministic, stable train/valid/test assignment.

Each item lands in a split by a seeded hash of its id alone, so adding or removing other
items never moves an existing one (a shuffled list would reshuffle everything).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

SPLIT_NAMES = ("train", "valid", "test")


def bucket(seed: int, item_id: str) -> float:
    """sha256 of f"{seed}:{id}" mapped uniformly to [0, 1)."""
    digest = hashlib.sha256(f"{seed}:{item_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def assign_split(item_id: str, fractions: Mapping[str, float], seed: int) -> str:
    """The split of one item: consecutive ranges of [0, 1) in train, valid, test order."""
    b = bucket(seed, item_id)
    edge = 0.0
    for name in SPLIT_NAMES:
        edge += fractions.get(name, 0.0)
        if b < edge:
            return name
    # Rounding can leave a sliver just below 1.0: it belongs to the last non-empty split.
    return next(n for n in reversed(SPLIT_NAMES) if fractions.get(n, 0.0) > 0)


def assign_splits(
    item_ids: Iterable[str], fractions: Mapping[str, float], seed: int
) -> dict[str, str]:
    return {item_id: assign_split(item_id, fractions, seed) for item_id in item_ids}
