"""A training run killed (SIGKILL, parent and child) before its first checkpoint: `runs`
shows it interrupted with the next step, and `train --resume` restarts it with the same
settings. Real training on the tiny offline model."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support import tiny_model as tiny

from graftwork.core.base.workspace import Workspace

tiny_model_dir = tiny.tiny_model_dir  # the shared session fixture, made visible here
GRAFTWORK = (sys.executable, "-m", "graftwork")

FAST_YAML = """\
train:
  model: {model}
  learning_rate: 0.001
  steps_per_report: 2
  steps_per_eval: 1000
  steps_per_save: 1000
  val_batches: 2
  lora: {{num_layers: -1}}
"""


def cli(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GRAFTWORK, "-w", str(ws.root), *args],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "COLUMNS": "200"},
    )


@pytest.mark.mlx
def test_run_killed_before_first_checkpoint_restarts(
    workspace: Workspace, tiny_model_dir: Path
) -> None:
    tiny.write_tiny_set(workspace.datasets_dir, "tiny")
    workspace.config_path.write_text(FAST_YAML.format(model=tiny_model_dir))
    proc = subprocess.Popen(
        [*GRAFTWORK, "-w", str(workspace.root), "train", "--set", "tiny", "--iters", "1000"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group: the kill takes the child too
    )
    metrics = tiny.wait_for_training(workspace.runs_dir)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    run_id = metrics.parent.name
    assert not (metrics.parent / "adapters" / "last" / "state.json").exists()

    listing = cli(workspace, "runs")
    assert listing.returncode == 0, listing.stderr
    assert "interrupted" in listing.stdout and f"train --resume {run_id}" in listing.stdout

    again = cli(workspace, "train", "--resume", run_id, "--iters", "4")
    assert again.returncode == 0, again.stderr
    runs = json.loads(cli(workspace, "runs", "--json").stdout)
    assert [(r["id"], r["state"], r["last_iteration"]) for r in runs] == [(run_id, "done", 4)]
