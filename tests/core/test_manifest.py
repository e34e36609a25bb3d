"""Manifest parsing: whole-file errors stop the stage, entry errors are named and skipped."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graftwork.core.base.errors import ConfigError
from graftwork.core.ingest.manifest import id_problem, parse_manifest, read_widget_file, select

REAL_MANIFEST = Path("/work/shared/uebersicht/widgets.json")


def entry(
    item_id: object = "clock", url: object = "http://127.0.0.1/clock.zip", **extra: object
) -> dict:
    raw = {"id": item_id, "downloadUrl": url, **extra}
    return {k: v for k, v in raw.items() if v is not ...}


def parse(entries: list) -> tuple[list[str], list[str]]:
    parsed = parse_manifest(json.dumps({"widgets": entries}), "m.json")
    return [e.id for e in parsed.entries], [f"{p.label}: {p.cause}" for p in parsed.problems]


def test_not_json_is_a_stage_error() -> None:
    with pytest.raises(ConfigError, match=r"m\.json: manifest is not valid JSON"):
        parse_manifest("{widgets: nope", "m.json")


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        ({"items": []}, "has no 'widgets' list"),
        ({"widgets": {"a": 1}}, "got dict"),
        ("just a string", "got str"),
        (42, "got int"),
    ],
)
def test_wrong_shape_is_a_stage_error(doc: object, expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_manifest(json.dumps(doc), "m.json")


def test_bare_list_and_wrapped_list_give_the_same_entries() -> None:
    items = [entry("a", name="A", author="Ann", description="d", screenshotUrl="s.png"), entry("b")]
    wrapped = parse_manifest(json.dumps({"widgets": items}), "m")
    bare = parse_manifest(json.dumps(items), "m")
    assert wrapped == bare
    first = bare.entries[0]
    assert (
        first.id,
        first.name,
        first.author,
        first.description,
        first.screenshot_url,
        first.order,
    ) == (
        "a",
        "A",
        "Ann",
        "d",
        "s.png",
        0,
    )
    assert first.raw == items[0]


def test_missing_id_or_url_is_named_and_skipped() -> None:
    ids, problems = parse([entry(...), entry("ok"), entry("nourl", url=...), entry("x", url=3)])
    assert ids == ["ok"]
    assert problems == [
        "entry #0: missing 'id'",
        "entry #2 (id 'nourl'): missing 'downloadUrl'",
        "entry #3 (id 'x'): 'downloadUrl' must be a non-empty string",
    ]


def test_non_string_id_and_non_object_entry() -> None:
    ids, problems = parse([entry(7), "clock", entry("fine")])
    assert ids == ["fine"]
    assert problems == [
        "entry #0 (id 7): 'id' must be a string, got int",
        "entry #1: entry is a str, not an object",
    ]


def test_duplicate_ids_keep_the_first() -> None:
    ids, problems = parse([entry("a", url="u1"), entry("b"), entry("a", url="u2")])
    assert ids == ["a", "b"]
    assert problems == ["entry #2 (id 'a'): duplicate id (first seen at entry #0)"]


@pytest.mark.parametrize(
    ("bad_id", "cause"),
    [
        ("a/b", "path separator"),
        ("a\\b", "path separator"),
        ("..", "'..'"),
        ("up..", "'..'"),
        ("tab\there", "control character"),
        ("nul\x00", "control character"),
        ("", "empty id"),
        (".archives", "starts with '.'"),
        (" padded", "whitespace"),
        ("x" * 201, "longer than"),
    ],
)
def test_unsafe_ids_are_refused(bad_id: str, cause: str) -> None:
    ids, problems = parse([entry(bad_id), entry("good")])
    assert ids == ["good"]
    assert len(problems) == 1 and cause in problems[0] and problems[0].startswith("entry #0 (id ")


def test_id_problem_accepts_real_ids() -> None:
    for ok in ("AnalogClock", "battery-bar_2", "Übersicht Clock", "a.b"):
        assert id_problem(ok) is None


def test_select_keeps_manifest_order_and_reports_unknown() -> None:
    parsed = parse_manifest(json.dumps([entry("a"), entry("b"), entry("c")]), "m")
    chosen, unknown = select(parsed.entries, ["c", "zz", "a", "c"])
    assert [e.id for e in chosen] == ["a", "c"]
    assert unknown == ["zz"]
    assert select(parsed.entries, None) == (parsed.entries, [])


def test_widget_file_comments_and_blank_lines(tmp_path: Path) -> None:
    f = tmp_path / "ids.txt"
    f.write_text("# wanted\nalpha\n\n  beta  # trailing comment\n#gamma\n", encoding="utf-8")
    assert read_widget_file(f) == ["alpha", "beta"]
    with pytest.raises(ConfigError, match="cannot read widget file"):
        read_widget_file(tmp_path / "missing.txt")


@pytest.mark.skipif(not REAL_MANIFEST.is_file(), reason="shared gallery manifest not present")
def test_real_gallery_manifest_parses_cleanly() -> None:
    parsed = parse_manifest(REAL_MANIFEST.read_bytes(), str(REAL_MANIFEST))
    assert len(parsed.entries) == 414 and parsed.problems == []
    assert all(e.download_url.startswith("https://") for e in parsed.entries)
