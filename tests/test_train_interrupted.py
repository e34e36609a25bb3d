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
from typing import Any

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


def _start_training(ws: Workspace, model: Path, iters: str, **popen: Any) -> subprocess.Popen[Any]:
    """`graftwork train` on the tiny set in a process of its own."""
    tiny.write_tiny_set(ws.datasets_dir, "tiny")
    ws.config_path.write_text(FAST_YAML.format(model=model))
    return subprocess.Popen(
        [*GRAFTWORK, "-w", str(ws.root), "train", "--set", "tiny", "--iters", iters], **popen
    )


@pytest.mark.mlx
def test_run_killed_before_first_checkpoint_restarts(
    workspace: Workspace, tiny_model_dir: Path
) -> None:
    proc = _start_training(
        workspace,
        tiny_model_dir,
        "1000",
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


@pytest.mark.mlx
def test_runs_cancel_stops_a_training_of_another_process(
    workspace: Workspace, tiny_model_dir: Path
) -> None:
    proc = _start_training(
        workspace,
        tiny_model_dir,
        "100000",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    run_id = tiny.wait_for_training(workspace.runs_dir).parent.name

    stopped = cli(workspace, "runs", "--cancel", run_id[:15])
    assert stopped.returncode == 0, stopped.stderr
    assert f"run {run_id} cancelled at iteration" in stopped.stdout
    assert f"graftwork train --resume {run_id}" in stopped.stdout
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err  # the training command ends as after Ctrl-C
    assert "cancelled" in out
    runs = json.loads(cli(workspace, "runs", "--json").stdout)
    assert runs[0]["state"] == "cancelled"
    assert not (workspace.runs_dir / run_id / "CANCEL").exists()

    again = cli(workspace, "runs", "--cancel", run_id)
    assert again.returncode != 0
    assert f"run {run_id} is not running (it is cancelled)" in again.stderr
    assert "Traceback" not in again.stderr
