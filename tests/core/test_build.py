from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from support.widget_rows import add_prompt, add_widget, curate, widget_source

from graftwork.adapters.tokenizers import TiktokenBackend
from graftwork.core.apple.schema import line_problems
from graftwork.core.base.errors import ConfigError
from graftwork.core.base.jobs import Job
from graftwork.core.base.project import load_project
from graftwork.core.budget.tokens import CachingCounter
from graftwork.core.dataset import build as dataset
from graftwork.core.dataset.build import DatasetExistsError, build, recover_sets
from graftwork.core.dataset.examples import sha256_text


def _build(ws, name: str = "v1", force: bool = False):
    return build(
        ws,
        name,
        counter=CachingCounter(TiktokenBackend(), ws.db_path),
        force=force,
        job=Job(None, "build"),
    )


def _lines(folder: Path) -> dict[str, list[list[dict]]]:
    return {
        s: [json.loads(line) for line in (folder / f"{s}.jsonl").read_text().splitlines()]
        for s in ("train", "valid", "test")
    }


@pytest.fixture
def filled(workspace):
    db = workspace.catalog()
    for i in range(30):
        add_widget(db, workspace, f"w{i:02d}", order=i)
    yield workspace, db
    db.close()


def test_build_writes_valid_apple_lines_manifest_and_catalog_row(filled) -> None:
    ws, db = filled
    result = _build(ws)
    assert result.exit_code == 0 and result.ok == 30
    folder = ws.datasets_dir / "v1"
    assert sorted(p.name for p in folder.iterdir()) == [
        "manifest.json",
        "test.jsonl",
        "train.jsonl",
        "valid.jsonl",
    ]
    assert not [
        p for p in ws.datasets_dir.iterdir() if p.name.startswith(".")
    ]  # no temp folder left
    manifest = json.loads((folder / "manifest.json").read_text())
    project = load_project(ws)
    by_id = {it["id"]: it for it in manifest["items"]}
    for split in ("train", "valid", "test"):
        for raw in (folder / f"{split}.jsonl").read_text().splitlines():
            assert line_problems(raw) == []
            msgs = json.loads(raw)
            assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
            assert msgs[0]["tools"] == [project.tool]
            item = next(it for it in manifest["items"] if it["example_sha256"] == sha256_text(raw))
            assert item["split"] == split
            assert item["code_sha256"] == sha256_text(msgs[2]["content"])
            assert item["prompt_sha256"] == sha256_text(msgs[1]["content"])
    assert (
        sum(manifest["counts"].values()) == 30 == len(by_id)
    )  # each id once: splits never overlap
    assert manifest["counts"] == {s: len(v) for s, v in _lines(folder).items()}
    assert manifest["counts"] == {"train": 24, "valid": 3, "test": 3}  # each split its share
    assert manifest["tokenizer"] == "tiktoken:cl100k_base" and manifest["max_tokens"] == 4095
    assert len(manifest["config_hash"]) == 64 and manifest["seed"] == 42
    assert all(it["tokens"] > 0 for it in manifest["items"])
    row = db["datasets"].get("v1")
    assert json.loads(row["counts"]) == manifest["counts"]
    import hashlib

    assert (
        row["manifest_sha256"]
        == hashlib.sha256((folder / "manifest.json").read_bytes()).hexdigest()
    )


def test_jsx_files_concatenated_in_sorted_path_order_with_path_comments(workspace) -> None:
    db = workspace.catalog()
    add_widget(
        db,
        workspace,
        "multi",
        files={
            "b.jsx": "const b = 2;",
            "a.jsx": "const a = 1;",
            "lib/c.jsx": "const c = 3;",
            "style.css": "body{}",
        },
    )
    _build(workspace)
    msgs = next(m for s in _lines(workspace.datasets_dir / "v1").values() for m in s)
    assert (
        msgs[2]["content"]
        == "// File: a.jsx\nconst a = 1;\n\n// File: b.jsx\nconst b = 2;\n\n// File: lib/c.jsx\nconst c = 3;"
    )
    db.close()


def test_curation_exclude_wins_needs_work_skipped_and_over_budget_include_refused(
    workspace,
) -> None:
    db = workspace.catalog()
    add_widget(db, workspace, "keep")
    add_widget(db, workspace, "excl")
    add_widget(db, workspace, "work")
    add_widget(db, workspace, "huge", code=widget_source("huge", lines=900))
    add_widget(db, workspace, "huge-incl", code=widget_source("huge-incl", lines=900))
    add_widget(db, workspace, "huge-excl", code=widget_source("huge-excl", lines=900))
    curate(db, "excl", "exclude", "dup of keep")
    curate(db, "work", "needs_work")
    curate(db, "huge-incl", "include")
    curate(db, "huge-excl", "exclude")
    result = _build(workspace)
    skipped = dict(result.skipped)
    assert skipped["excl"] == "excluded by curation (dup of keep)"
    assert skipped["work"] == "curation says needs work"
    assert skipped["huge-excl"].startswith("excluded by curation")
    assert skipped["huge"].startswith("Exceeds limit (") and skipped["huge"].endswith(
        " > 4095 tokens)"
    )
    assert len(result.failed) == 1 and result.failed[0][0] == "huge-incl"
    cause = result.failed[0][1]
    total = int(cause.split("over budget: ")[1].split(" ")[0])
    assert f"{total} > 4095 tokens (over by {total - 4095};" in cause
    assert result.exit_code == 1
    manifest = json.loads((workspace.datasets_dir / "v1" / "manifest.json").read_text())
    assert [it["id"] for it in manifest["items"]] == ["keep"]
    assert {f["id"] for f in manifest["failed"]} == {"huge-incl"}
    db.close()


def test_existing_set_needs_force_and_force_replaces(filled) -> None:
    ws, db = filled
    _build(ws)
    before = (ws.datasets_dir / "v1" / "train.jsonl").read_bytes()
    add_prompt(db, "w00", "Create an Übersicht widget that shows a new thing.")
    with pytest.raises(DatasetExistsError, match=r"already exists.*--force") as info:
        _build(ws)
    assert info.value.exit_code == 2
    assert (ws.datasets_dir / "v1" / "train.jsonl").read_bytes() == before
    _build(ws, force=True)
    all_lines = "".join(
        (ws.datasets_dir / "v1" / f"{s}.jsonl").read_text() for s in ("train", "valid", "test")
    )
    assert "shows a new thing" in all_lines
    assert not [p for p in ws.datasets_dir.iterdir() if p.name.startswith(".")]


def test_bad_set_names_are_config_errors(workspace) -> None:
    for bad in ("../x", ".hidden", "a/b", "", "x" * 200):
        with pytest.raises(ConfigError):
            _build(workspace, bad)


def test_failure_while_writing_leaves_the_old_set(filled, monkeypatch) -> None:
    ws, _ = filled
    _build(ws)
    before = {p.name: p.read_bytes() for p in (ws.datasets_dir / "v1").iterdir()}

    def boom(*_a, **_k):
        raise OSError("disk full")

    monkeypatch.setattr(dataset, "write_json_fast", boom)
    with pytest.raises(OSError, match="disk full"):
        _build(ws, force=True)
    assert {p.name: p.read_bytes() for p in (ws.datasets_dir / "v1").iterdir()} == before
    assert not [p for p in ws.datasets_dir.iterdir() if p.name.startswith(".")]


def test_force_replaces_in_one_atomic_exchange_on_linux(filled, monkeypatch) -> None:
    import sys

    ws, _ = filled
    _build(ws)
    swaps = []
    real_swap = dataset.swap_dirs
    monkeypatch.setattr(
        dataset, "swap_dirs", lambda a, b: swaps.append(real_swap(a, b)) or swaps[-1]
    )
    monkeypatch.setattr(dataset.os, "rename", lambda *a: pytest.fail("fell back to two renames"))
    if not sys.platform.startswith(("linux", "darwin")):
        pytest.skip("no atomic exchange on this OS")
    _build(ws, force=True)
    assert swaps == [True]
    assert (ws.datasets_dir / "v1" / "manifest.json").is_file()
    assert not [p for p in ws.datasets_dir.iterdir() if p.name.startswith(".")]


def test_kill_between_the_two_renames_recovers_the_old_set(filled, monkeypatch) -> None:
    ws, db = filled
    _build(ws)
    monkeypatch.setattr(dataset, "swap_dirs", lambda a, b: False)  # a filesystem without exchange
    before = (ws.datasets_dir / "v1" / "train.jsonl").read_bytes()
    real_rename = os.rename
    calls = []

    def dying_rename(src, dst):
        calls.append((src, dst))
        if len(calls) == 2:  # the old set is aside, the new one not yet in place
            raise KeyboardInterrupt("killed")
        real_rename(src, dst)

    monkeypatch.setattr(dataset.os, "rename", dying_rename)
    add_prompt(db, "w01", "Create an Übersicht widget that changed.")
    with pytest.raises(KeyboardInterrupt):
        _build(ws, force=True)
    monkeypatch.setattr(dataset.os, "rename", real_rename)
    assert not (ws.datasets_dir / "v1").exists()  # the moment of the kill: neither in place
    recover_sets(ws.datasets_dir)  # what the next build (or reader) does first
    assert (ws.datasets_dir / "v1" / "train.jsonl").read_bytes() == before
    assert not [p for p in ws.datasets_dir.iterdir() if p.name.startswith(".")]


def test_max_tokens_override_and_empty_set_warning(filled) -> None:
    ws, _ = filled
    events = []
    job = Job(None, "build", listeners=[events.append])
    result = build(
        ws, "tiny", counter=CachingCounter(TiktokenBackend(), ws.db_path), max_tokens=10, job=job
    )
    assert result.ok == 0 and len(result.skipped) == 30
    assert all(
        r.startswith("Exceeds limit (") and r.endswith(" > 10 tokens)") for _, r in result.skipped
    )
    assert any(
        e.type == "log" and e.level == "warning" and "no examples" in e.message for e in events
    )
    manifest = json.loads((ws.datasets_dir / "tiny" / "manifest.json").read_text())
    assert manifest["max_tokens"] == 10 and manifest["counts"] == {
        "train": 0,
        "valid": 0,
        "test": 0,
    }


def test_later_builds_of_a_set_keep_every_split_and_reshuffle_starts_over(filled) -> None:
    ws, db = filled
    _build(ws, "a")
    first = _manifest_splits(ws, "a")
    for i in range(20):
        add_widget(db, ws, f"new{i:02d}", order=100 + i)
    build(
        ws,
        "a",
        counter=CachingCounter(TiktokenBackend(), ws.db_path),
        force=True,
        job=Job(None, "b"),
    )
    later = _manifest_splits(ws, "a")
    assert len(later) == 50 and all(later[k] == v for k, v in first.items())
    counts = {s: list(later.values()).count(s) for s in ("train", "valid", "test")}
    assert counts == {"train": 40, "valid": 5, "test": 5}
    # the recorded splits are in the catalog
    assert (
        db.execute("SELECT count(*) FROM split_assignments WHERE set_name = 'a'").fetchone()[0]
        == 50
    )
    build(
        ws,
        "a",
        counter=CachingCounter(TiktokenBackend(), ws.db_path),
        force=True,
        reshuffle=True,
        job=Job(None, "b"),
    )
    fresh = _manifest_splits(ws, "a")
    assert {s: list(fresh.values()).count(s) for s in ("train", "valid", "test")} == counts


def _manifest_splits(ws, name: str) -> dict[str, str]:
    manifest = json.loads((ws.datasets_dir / name / "manifest.json").read_text())
    return {it["id"]: it["split"] for it in manifest["items"]}


def test_limit_builds_a_seeded_subset_with_every_split(filled) -> None:
    """`build --limit N` (the seed's dry run on 100 samples, mini fine-tune on 2-3k): at most N
    examples, the same pick every time, each split its share, the rest counted."""
    ws, _db = filled
    counter = CachingCounter(TiktokenBackend(), ws.db_path)
    picks = []
    for name in ("small", "again"):
        result = build(ws, name, counter=counter, example_limit=10, job=Job(None, "build"))
        assert result.ok == 10 and result.summary["left_out_by_limit"] == 20
        manifest = json.loads((ws.datasets_dir / name / "manifest.json").read_text())
        assert manifest["counts"] == {"train": 8, "valid": 1, "test": 1}
        assert (manifest["example_limit"], manifest["left_out_by_limit"]) == (10, 20)
        picks.append(_manifest_splits(ws, name))
    assert picks[0] == picks[1]
    everything = _build(ws, "all")
    assert everything.ok == 30 and "left_out_by_limit" not in everything.summary
