"""The buckets and templates recipes from the command line, as a user runs them: init with the
recipe's starter files, `graftwork run`, exports in every format, and the seed's dry run on a
100-example set (`build --limit 100`). The real entry point in-process, real files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import run_main

from graftwork.core.base.workspace import Workspace


@pytest.mark.parametrize(("recipe", "records"), [("buckets", 205), ("templates", 1250)])
def test_init_run_export_and_a_dry_run_set(
    tmp_path: Path,
    recipe: str,
    records: int,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from graftwork.cli import main

    with pytest.raises(SystemExit) as done:
        main(["init", str(tmp_path / "ws"), "--recipe", recipe])
    assert done.value.code in (0, None)
    ws = Workspace(tmp_path / "ws")
    monkeypatch.chdir(ws.root)  # --out folders are relative to the current directory
    assert run_main(ws, "run", "--set", "full") == 0, capsys.readouterr()
    manifest = json.loads((ws.datasets_dir / "full" / "manifest.json").read_text())
    assert sum(manifest["counts"].values()) == records
    capsys.readouterr()
    for fmt in ("apple", "mlx-chat", "alpaca"):
        assert run_main(ws, "export", "--set", "full", "--format", fmt, "--out", f"o-{fmt}") == 0
        assert f"exported {records} example(s)" in capsys.readouterr().out
    first = json.loads((ws.root / "o-alpaca" / "train.jsonl").read_text().splitlines()[0])
    assert first["instruction"] and first["output"] and first["meta"]
    assert run_main(ws, "build", "--set", "dry", "--limit", "100") == 0
    assert f"left out {records - 100} usable example(s) over --limit 100" in capsys.readouterr().out
    counts = json.loads((ws.datasets_dir / "dry" / "manifest.json").read_text())["counts"]
    assert sum(counts.values()) == 100 and all(counts.values())
    if recipe == "buckets":  # build's balanced splits; templates hash the word (the stage's)
        assert counts == {"train": 80, "valid": 10, "test": 10}


def test_templates_build_puts_every_record_where_the_stage_files_have_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """One split rule for the recipe: the set build writes holds each record in the split of
    the stage's own train/val/test.jsonl (a word is never in two splits), whatever the
    project's splits say; exports give the record's meta back without the word."""
    from graftwork.cli import main

    with pytest.raises(SystemExit):
        main(["init", str(tmp_path / "ws"), "--recipe", "templates"])
    ws = Workspace(tmp_path / "ws")
    config = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(
        config.replace("project: {}", "project: {splits: {train: 0.4, valid: 0.3, test: 0.3}}")
    )
    assert run_main(ws, "run", "--set", "words") == 0, capsys.readouterr()
    out = ws.root / "data" / "processed" / "templates"
    by_stage = {
        json.loads(line)["instruction"]: {"val": "valid"}.get(split, split)
        for split in ("train", "val", "test")
        for line in (out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    }
    by_build = {}
    for split in ("train", "valid", "test"):
        for line in (ws.datasets_dir / "words" / f"{split}.jsonl").read_text().splitlines():
            user = json.loads(line)["messages"][0]["content"]
            by_build[user] = split
    assert len(by_build) == len(by_stage) == 1250
    assert by_build == by_stage
    assert (
        run_main(ws, "export", "--set", "words", "--format", "alpaca", "--out", str(ws.root / "a"))
        == 0
    )
    record = json.loads((ws.root / "a" / "train.jsonl").read_text().splitlines()[0])
    assert "split_key" not in record["meta"] and record["meta"]["template_category"]
