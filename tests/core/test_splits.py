from __future__ import annotations

from graftwork.core.dataset.splits import assign_split, assign_splits, assign_stable, bucket

FRACTIONS = {"train": 0.8, "valid": 0.1, "test": 0.1}


def test_bucket_is_the_seeded_sha256_in_unit_interval() -> None:
    import hashlib

    b = bucket(42, "clock")
    assert 0 <= b < 1
    assert b == int.from_bytes(hashlib.sha256(b"42:clock").digest()[:8], "big") / 2**64
    assert bucket(43, "clock") != b


def test_fractions_within_tolerance_on_1000_ids() -> None:
    splits = assign_splits([f"widget-{i}" for i in range(1000)], FRACTIONS, 42)
    counts = {s: sum(1 for v in splits.values() if v == s) for s in FRACTIONS}
    assert 740 <= counts["train"] <= 860
    assert 60 <= counts["valid"] <= 140
    assert 60 <= counts["test"] <= 140


def test_adding_items_never_moves_an_existing_one() -> None:
    before = assign_splits([f"w{i}" for i in range(300)], FRACTIONS, 7)
    after = assign_splits(
        [f"new{i}" for i in range(500)] + [f"w{i}" for i in range(300)], FRACTIONS, 7
    )
    assert all(after[k] == v for k, v in before.items())


def test_deterministic_and_seed_dependent() -> None:
    ids = [f"w{i}" for i in range(200)]
    assert assign_splits(ids, FRACTIONS, 1) == assign_splits(ids, FRACTIONS, 1)
    assert assign_splits(ids, FRACTIONS, 1) != assign_splits(ids, FRACTIONS, 2)


def test_zero_fraction_split_gets_nothing() -> None:
    splits = assign_splits(
        [f"w{i}" for i in range(500)], {"train": 0.9, "valid": 0.1, "test": 0.0}, 3
    )
    assert "test" not in splits.values()
    assert assign_split("x", {"train": 1.0, "valid": 0.0, "test": 0.0}, 0) == "train"


# ---- stable and whole (assign_stable: what build uses) -----------------------------------


def _counts(assigned: dict[str, str]) -> dict[str, int]:
    return {s: sum(1 for v in assigned.values() if v == s) for s in FRACTIONS}


def test_every_split_with_a_share_is_filled_and_within_one() -> None:
    for n in range(3, 120):
        counts = _counts(assign_stable([f"w{i}" for i in range(n)], FRACTIONS, 42))
        assert all(counts[s] >= 1 for s in FRACTIONS), (n, counts)
        if n >= 10:  # from here the floor of one never pulls a split off its share
            assert all(abs(counts[s] - n * f) < 1 for s, f in FRACTIONS.items()), (n, counts)


def test_the_gallery_of_36_gets_a_test_set() -> None:
    # the issue: a pure hash built 36 real widgets 18/2/0 (after curation and budget)
    counts = _counts(assign_stable([f"widget-{i}" for i in range(20)], FRACTIONS, 42))
    assert counts == {"train": 16, "valid": 2, "test": 2}


def test_recorded_splits_are_kept_and_new_examples_fill_the_shares() -> None:
    first = assign_stable([f"w{i}" for i in range(20)], FRACTIONS, 7)
    later = assign_stable([f"w{i}" for i in range(50)], FRACTIONS, 7, previous=first)
    assert all(later[k] == v for k, v in first.items())
    assert _counts(later) == {"train": 40, "valid": 5, "test": 5}
    again = assign_stable([f"w{i}" for i in range(50)], FRACTIONS, 7, previous=first)
    assert again == later  # deterministic


def test_zero_fraction_stays_empty_and_order_of_ids_does_not_matter() -> None:
    ids = [f"w{i}" for i in range(40)]
    fractions = {"train": 0.9, "valid": 0.1, "test": 0.0}
    assigned = assign_stable(ids, fractions, 3)
    assert _counts(assigned)["test"] == 0
    assert assign_stable(list(reversed(ids)), fractions, 3) == assigned


def test_grouped_keys_stay_together_and_weigh_their_size() -> None:
    weights = {f"repo{i}": 1 + i % 4 for i in range(30)}  # chunks per repository
    assigned = assign_stable(weights, FRACTIONS, 5)
    total = sum(weights.values())
    per = {s: sum(w for k, w in weights.items() if assigned[k] == s) for s in FRACTIONS}
    assert sum(per.values()) == total and all(per[s] > 0 for s in FRACTIONS)
    assert abs(per["train"] - 0.8 * total) <= 4  # within one group of its share


def test_stratified_splits_spread_every_category_by_its_share() -> None:
    from collections import Counter

    from graftwork.core.dataset.splits import assign_stable

    fractions = {"train": 0.8, "valid": 0.1, "test": 0.1}
    strata = {f"{c}{i}": c for c in ("clock", "weather", "other") for i in range(10)}
    out = assign_stable(list(strata), fractions, 42, strata=strata)
    per = Counter((strata[k], s) for k, s in out.items())
    for c in ("clock", "weather", "other"):
        assert (per[(c, "train")], per[(c, "valid")], per[(c, "test")]) == (8, 1, 1)
    assert Counter(out.values()) == {"train": 24, "valid": 3, "test": 3}
    # without strata the same keys split by the whole set only: a category can miss a split
    plain = assign_stable(list(strata), fractions, 42)
    assert Counter(plain.values()) == Counter(out.values())
    # stable: recorded keys keep their split, new ones fill what their category lacks
    more = {**strata, **{f"clock{i}": "clock" for i in range(10, 20)}}
    again = assign_stable(list(more), fractions, 42, previous=out, strata=more)
    assert all(again[k] == out[k] for k in out)
    clock = Counter(s for k, s in again.items() if more[k] == "clock")
    assert clock == {"train": 16, "valid": 2, "test": 2}
    # whole: every split non-empty even when the categories are tiny
    tiny = {"a": "x", "b": "y", "c": "z"}
    assert sorted(assign_stable(list(tiny), fractions, 1, strata=tiny).values()) == [
        "test",
        "train",
        "valid",
    ]
