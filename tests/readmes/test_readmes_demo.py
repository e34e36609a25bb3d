"""`graftwork demo --recipe readmes` without its training step (the tiny-model training is
covered by the train tests): the sample through every other stage, offline."""

from __future__ import annotations

import json
from pathlib import Path

from graftwork.commands.demo_readmes import run_demo
from graftwork.core.base.workspace import Workspace
from graftwork.core.sources.readmes import demo


def test_the_readmes_demo_runs_offline_and_is_rerunnable(tmp_path: Path) -> None:
    assert run_demo(tmp_path / "demo", train=False) == 0
    ws = Workspace.open(tmp_path / "demo")
    set_dir = ws.datasets_dir / demo.SET_NAME
    manifest = json.loads((set_dir / "manifest.json").read_text())
    assert {i["split"] for i in manifest["items"]} == {"train", "valid", "test"}
    assert len(json.loads((set_dir / "sft_dataset.json").read_text())) == len(manifest["items"])
    assert run_demo(tmp_path / "demo", train=False) == 0  # a second run re-uses the workspace
