"""Cancelling, from the Runs pane, a real training that another process runs (`graftwork
train` in a terminal): `c`, confirm, and the row ends cancelled (the run's cancel file, which
that process watches; core/train/cancel.py). Real mlx-lm training of the tiny offline model."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from support import tiny_model as tiny

from tests.tui.helpers import main_screen, until

tiny_model_dir = tiny.tiny_model_dir  # the shared session fixture, made visible here
pytestmark = pytest.mark.mlx


async def test_runs_pane_cancels_a_training_of_another_process(
    make_app, tiny_model_dir: Path
) -> None:
    app = make_app()
    ws = app.ws
    tiny.write_tiny_set(ws.datasets_dir, "tiny")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "graftwork",
            "-w",
            str(ws.root),
            "train",
            "--set",
            "tiny",
            "--model",
            str(tiny_model_dir),
            "--iters",
            "100000",
            "--batch-size",
            "4",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        run_id = tiny.wait_for_training(ws.runs_dir).parent.name
        with ws.catalog() as db:
            job_id = db["runs"].get(run_id)["job_id"]
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await main_screen(pilot)
            await pilot.press("4")
            screen.poll_jobs()
            await until(pilot, lambda: job_id in screen.runs_pane.jobs, timeout=30)
            await until(pilot, lambda: screen.runs_pane.select_job(job_id))
            await until(pilot, lambda: screen.runs_pane.selected_id == job_id)
            await pilot.press("c")  # asks first
            await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmModal")
            await pilot.press("y")
            await until(
                pilot, lambda: screen.runs_pane.jobs[job_id].state == "cancelled", timeout=60
            )
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130, err
    with ws.catalog() as db:
        run = db["runs"].get(run_id)
        assert (run["state"], db["jobs"].get(job_id)["state"]) == ("cancelled", "cancelled")
    last = ws.runs_dir / run_id / "adapters" / "last"
    if last.exists():  # cancelled at a safe point, or stopped where it was after one
        assert json.loads((last / "state.json").read_text())["iteration"] == run["last_iteration"]
    assert not (ws.runs_dir / run_id / "CANCEL").exists()
