"""Cancel a training run from anywhere: `graftwork runs --cancel RUN`, or a window other than
the one that started it. The process that follows the run (core/train/train.py through the
backend) watches runs/<id>/CANCEL and stops the run as a cancel of its own would: a checkpoint
at the next safe point, or signals after a grace period (adapters/mlx/trainer.py), within 2 s.
"""

from __future__ import annotations

import time
from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.train import runs as runs_mod
from graftwork.core.train.port import TrainError
from graftwork.core.train.train import CANCEL_FILE, owner_alive


def request_cancel(ws: Workspace, db: Any, run_ref: str) -> dict[str, Any]:
    """Ask the live run ``run_ref`` (an id or unique prefix) to stop; its row, as it was.
    TrainError when it is not running (or its process is gone: then it is interrupted)."""
    run = runs_mod.get_run(db, run_ref)
    rdir = ws.runs_dir / run["id"]
    if run["state"] != "running":
        raise TrainError(f"run {run['id']} is not running (it is {run['state']})")
    if not owner_alive(rdir):
        raise TrainError(
            f"run {run['id']} has no live process (killed?): "
            f"`graftwork train --resume {run['id']}` continues it"
        )
    (rdir / CANCEL_FILE).touch()
    return run


def run_of_job(db: Any, job_id: str) -> str | None:
    """The run a train job drives, if any."""
    if not db["runs"].exists():
        return None
    row = db.execute("SELECT id FROM runs WHERE job_id = ? LIMIT 1", [job_id]).fetchone()
    return row[0] if row else None


def wait_stopped(ws: Workspace, run_id: str, timeout: float) -> dict[str, Any]:
    """The run's row once it left "running" (or as it is when ``timeout`` passed)."""
    deadline = time.monotonic() + timeout
    while True:
        with ws.catalog() as db:
            run = runs_mod.get_run(db, run_id)
        if run["state"] != "running" or time.monotonic() >= deadline:
            return run
        time.sleep(0.05)
