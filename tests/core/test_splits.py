from __future__ import annotations

from graftwork.core.dataset.splits import assign_split, assign_splits, bucket

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
