"""`graftwork demo --recipe buckets|templates` without its training step (the tiny-model
training is the same `train.demo` stage the other demos' tests cover): the example spec
through generate, budget, build and an Alpaca export, offline, and again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graftwork.commands.demo_rules import run_demo, set_name
from graftwork.core.base.workspace import Workspace


@pytest.mark.parametrize("recipe", ["buckets", "templates"])
def test_the_rule_demos_run_offline_and_again(
    tmp_path: Path, recipe: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_demo(tmp_path / "demo", recipe, train=False) == 0, capsys.readouterr().err
    ws = Workspace.open(tmp_path / "demo")
    set_dir = ws.datasets_dir / set_name(recipe)
    manifest = json.loads((set_dir / "manifest.json").read_text())
    assert manifest["recipe"] == recipe and len(manifest["items"]) > 100
    alpaca = sorted((set_dir / "export" / "alpaca").glob("*.jsonl"))
    assert alpaca and all(
        set(json.loads(line)) >= {"instruction", "input", "output"}
        for line in alpaca[0].read_text().splitlines()
    )
    with ws.catalog() as db:
        kinds = [r[0] for r in db.execute("select kind from jobs order by rowid")]
    assert kinds == [recipe, "budget", "build", "export"]
    assert run_demo(tmp_path / "demo", recipe, train=False) == 0  # re-uses the workspace


def test_a_rule_demo_never_takes_over_another_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    assert run_demo(tmp_path / "busy", "templates", train=False) == 1
    assert "not empty and not a demo workspace" in capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "busy").iterdir()) == ["notes.txt"]
    assert run_demo(tmp_path / "b", "buckets", train=False) == 0
    assert run_demo(tmp_path / "b", "templates", train=False) == 1
    assert "is a workspace of recipe 'buckets'" in capsys.readouterr().err
