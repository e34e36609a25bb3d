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
    assert counts == {"train": 80, "valid": 10, "test": 10}
