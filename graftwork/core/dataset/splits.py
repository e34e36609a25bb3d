"""Deterministic, stable train/valid/test assignment.

`assign_split` puts an item in a split by a seeded hash of its id alone (the plan recipe's
exports use it). Build uses `assign_stable`: shares that hold on small sets (a pure hash built
36 widgets 18/2/0), and splits recorded per set so an example never moves between builds.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

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


def split_targets(n: int, fractions: Mapping[str, float]) -> dict[str, int]:
    """How many of ``n`` examples each split gets: each within one of its share (largest
    remainders), and every split with a fraction > 0 gets at least one once n allows it."""
    shares = {s: n * max(0.0, fractions.get(s, 0.0)) for s in SPLIT_NAMES}
    total = sum(shares.values())
    if total <= 0:
        return {s: (n if s == "train" else 0) for s in SPLIT_NAMES}
    shares = {s: v * n / total for s, v in shares.items()}  # fractions that do not sum to 1
    counts = {s: int(v) for s, v in shares.items()}
    by_remainder = sorted(
        SPLIT_NAMES, key=lambda s: (-(shares[s] - counts[s]), SPLIT_NAMES.index(s))
    )
    for s in by_remainder[: n - sum(counts.values())]:
        counts[s] += 1
    positive = [s for s in SPLIT_NAMES if fractions.get(s, 0.0) > 0]
    if n >= len(positive):
        for s in positive:
            if counts[s] == 0:  # take one from the split that is furthest over its share
                donors = [d for d in positive if counts[d] > 1]
                donor = max(donors, key=lambda d: (counts[d] - shares[d], counts[d]))
                counts[donor] -= 1
                counts[s] += 1
    return counts


def assign_stable(
    keys: Iterable[str] | Mapping[str, int],
    fractions: Mapping[str, float],
    seed: int,
    previous: Mapping[str, str] | None = None,
    strata: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Splits that are stable and whole, per split key (an id, or a group's key weighted by
    how many examples share it: every chunk of a repository goes to one split).

    A key assigned before (``previous``, recorded by earlier builds of the same set) keeps its
    split. The others, in seeded-hash order, each go to the split furthest under its share of
    the whole set (ties in train, valid, test order). With nothing recorded this gives every
    split its share (within one, for single examples) and no empty split with a fraction > 0
    once there are at least as many examples as such splits.

    ``strata`` (key -> stratum, e.g. the widget's category; keys without one form the stratum
    "") spreads every stratum over the splits by its own share as far as the whole set's shares
    allow: strata are filled largest first, each new key going to the split furthest under its
    stratum's share among the splits that still have room in the whole set's, so the whole
    set keeps the guarantees above."""
    weights = dict(keys) if isinstance(keys, Mapping) else {k: 1 for k in keys}
    order = sorted(weights, key=lambda k: (bucket(seed, k), k))
    targets = split_targets(sum(weights.values()), fractions)
    previous = previous or {}
    out = {k: previous[k] for k in order if previous.get(k) in SPLIT_NAMES}
    counts = {s: 0 for s in SPLIT_NAMES}
    for key, split in out.items():
        counts[split] += weights[key]
    if strata is not None:
        _fill_strata(order, weights, strata, fractions, targets, counts, out)
        return out
    for key in order:
        if key in out:
            continue
        split = max(SPLIT_NAMES, key=lambda s: (targets[s] - counts[s], -SPLIT_NAMES.index(s)))
        out[key] = split
        counts[split] += weights[key]
    return out


def _fill_strata(
    order: list[str],
    weights: Mapping[str, int],
    strata: Mapping[str, str],
    fractions: Mapping[str, float],
    targets: Mapping[str, int],
    counts: dict[str, int],
    out: dict[str, str],
) -> None:
    groups: dict[str, list[str]] = {}
    for key in order:
        groups.setdefault(strata.get(key, ""), []).append(key)
    for name in sorted(groups, key=lambda g: (-sum(weights[k] for k in groups[g]), g)):
        keys = groups[name]
        share = split_targets(sum(weights[k] for k in keys), fractions)
        have = {s: 0 for s in SPLIT_NAMES}
        for key in keys:
            if key in out:
                have[out[key]] += weights[key]
        for key in keys:
            if key in out:
                continue
            w = weights[key]
            room = [s for s in SPLIT_NAMES if counts[s] + w <= targets[s]] or list(SPLIT_NAMES)
            split = max(
                room,
                key=lambda s: (
                    share[s] - have[s],
                    targets[s] - counts[s],
                    -SPLIT_NAMES.index(s),
                ),
            )
            out[key] = split
            counts[split] += w
            have[split] += w


def recorded_splits(db: Any, set_name: str) -> dict[str, str]:
    """The splits earlier builds of ``set_name`` put each example in."""
    if not db["split_assignments"].exists():
        return {}
    sql = "SELECT item_id, split FROM split_assignments WHERE set_name = ?"
    return dict(db.execute(sql, [set_name]).fetchall())


def record_splits(
    db: Any,
    set_name: str,
    assigned: Mapping[str, str],
    *,
    reshuffle: bool,
    previous: Mapping[str, str] | None = None,
) -> None:
    """Remember this build's splits (examples left out keep their record for a return).
    ``previous``: what recorded_splits said before this build; those unchanged are not
    written again (a rebuild of 100,000 examples writes none)."""
    from graftwork.core.base.catalog.db import now

    stamp = now()
    if previous and not reshuffle:
        assigned = {i: s for i, s in assigned.items() if previous.get(i) != s}
    with db.conn:
        if reshuffle:
            db.execute("DELETE FROM split_assignments WHERE set_name = ?", [set_name])
        db.conn.executemany(
            "INSERT INTO split_assignments (set_name, item_id, split, assigned_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(set_name, item_id) DO UPDATE SET split = excluded.split, "
            "assigned_at = excluded.assigned_at WHERE split != excluded.split",
            [(set_name, i, s, stamp) for i, s in sorted(assigned.items())],
        )
