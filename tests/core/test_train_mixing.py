"""Mixing a public instruction dataset into a run's training split (seed 001's option)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graftwork.core.train.mixing import MixError, mix_public


def write_jsonl(path: Path, rows: list) -> Path:
    path.write_text("".join((json.dumps(r) if not isinstance(r, str) else r) + "\n" for r in rows))
    return path


def test_alpaca_and_chat_records_are_appended_up_to_size(tmp_path: Path) -> None:
    train = write_jsonl(
        tmp_path / "train.jsonl", [{"messages": [{"role": "user", "content": "own"}]}]
    )
    public = write_jsonl(
        tmp_path / "public.jsonl",
        [
            {"instruction": "Say hi", "input": "to Ana", "output": "Hi Ana"},
            "not json",
            {
                "messages": [
                    {"role": "user", "content": "2+2"},
                    {"role": "assistant", "content": "4"},
                ]
            },
            {"unrelated": True},
            {"instruction": "Third", "output": "3"},
            {"instruction": "Fourth", "output": "4"},
        ],
    )
    mixed = mix_public(train, str(public), 3)
    assert (mixed["records"], mixed["skipped"], mixed["own_records"]) == (3, 2, 1)
    lines = [json.loads(line) for line in train.read_text().splitlines()]
    assert len(lines) == 4
    assert lines[1]["messages"][0] == {"role": "user", "content": "Say hi\n\nto Ana"}
    assert lines[2]["messages"][1]["content"] == "4"
    assert lines[3]["messages"][0]["content"] == "Third"


def test_a_json_array_works_and_nothing_usable_is_an_error(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [])
    arr = tmp_path / "public.json"
    arr.write_text(json.dumps([{"instruction": "a", "output": "b"}]))
    assert mix_public(train, str(arr), 10)["records"] == 1
    junk = write_jsonl(tmp_path / "junk.jsonl", [{"x": 1}])
    with pytest.raises(MixError, match="no Alpaca or chat records"):
        mix_public(train, str(junk), 10)


def test_a_hub_name_goes_to_the_loader(tmp_path: Path) -> None:
    train = write_jsonl(tmp_path / "train.jsonl", [])
    asked = []

    def loader(name: str, size: int):
        asked.append((name, size))
        return [{"instruction": f"q{i}", "output": f"a{i}"} for i in range(size)]

    # A stand-in for the hub (no network here); the real loader is `datasets.load_dataset`.
    mixed = mix_public(train, "org/some-dataset", 2, load_hub=loader)
    assert asked == [("org/some-dataset", 2)] and mixed["records"] == 2
    assert mixed["source"] == "org/some-dataset"


def test_a_hub_name_without_the_datasets_package_says_so(tmp_path: Path) -> None:
    try:
        import datasets  # noqa: F401
    except ImportError:
        pass
    else:
        pytest.skip("the datasets package is installed here")
    train = write_jsonl(tmp_path / "train.jsonl", [])
    with pytest.raises(MixError, match="`datasets` package is not installed"):
        mix_public(train, "org/some-dataset", 2)
