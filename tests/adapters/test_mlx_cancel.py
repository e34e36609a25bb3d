"""Cancelling real training (the tiny offline model, mlx-lm in a child process) at every
phase: during the setup (imports, model load), during validation, and when the child has to be
stopped with SIGTERM or SIGKILL. Whatever moment the cancel lands on (a loaded machine moves
it), the run ends cancelled, holds one complete checkpoint whose adapter, optimizer state and
state.json agree (or none: it restarts), leaves no temporary files, and resumes. How fast it
stops is measured by bench/bench_cancel.py, not asserted here."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest
from support.tiny_model import write_tiny_set

import graftwork.adapters.mlx.trainer as mlx_trainer
from graftwork.adapters.mlx.trainer import MlxTrainer
from graftwork.core.base.jobs import JobEvent, run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.train.runs import get_run
from graftwork.core.train.train import train

pytestmark = pytest.mark.mlx

FAST = {
    "batch_size": 4,
    "learning_rate": 1e-3,
    "steps_per_report": 1,
    "steps_per_eval": 1000,
    "steps_per_save": 2,
    "val_batches": 2,
    "lora": {"num_layers": -1},
}


def _train(ws: Workspace, set_name: str | None, cancel: threading.Event, when, **kw: Any):
    """Run the train stage as the TUI does; ``when(event)`` says when to set ``cancel``."""

    def listen(event: JobEvent) -> None:
        if when(event):
            cancel.set()

    with ws.catalog() as db:
        return run_job(
            db,
            "train",
            lambda job: train(ws, set_name, trainer=MlxTrainer(), job=job, **kw),
            listeners=[listen],
            cancel_event=cancel,
        )


def _rows(ws: Workspace, run_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    with ws.catalog() as db:
        run = get_run(db, run_id)
        return run, db["jobs"].get(run["job_id"])


def _assert_consistent(ws: Workspace, run_id: str) -> int:
    """Cancelled, nothing temporary left, the checkpoint whole; the iteration it resumes at."""
    run, job = _rows(ws, run_id)
    assert (run["state"], job["state"]) == ("cancelled", "cancelled")
    rdir = ws.runs_dir / run_id
    assert not (rdir / "CANCEL").exists()
    adapters = rdir / "adapters"
    kept = sorted(p.name for p in adapters.iterdir()) if adapters.exists() else []
    assert kept in ([], ["last"], ["best", "last"])
    assert not [p for p in rdir.rglob("*") if p.name.endswith((".tmp", ".partial", ".old"))]
    last = adapters / "last"
    if not last.exists():
        assert (run["last_iteration"] or 0) == 0  # no checkpoint: it restarts from 0
        return 0
    assert sorted(p.name for p in last.iterdir()) == [
        "adapter_config.json",
        "adapters.safetensors",
        "optimizer.safetensors",
        "state.json",
    ]
    import mlx.core as mx

    state = json.loads((last / "state.json").read_text())
    step = mx.load(str(last / "optimizer.safetensors"))["step"].item()
    assert state["iteration"] == state["optimizer_step"] == step == run["last_iteration"]
    return int(state["iteration"])


def _resume(ws: Workspace, run_id: str, at: int) -> None:
    result = _train(
        ws, None, threading.Event(), lambda e: False, resume=run_id, overrides={"iters": at + 2}
    )
    assert result.summary["state"] == "done" and result.summary["last_iteration"] == at + 2
    events = [
        json.loads(x) for x in (ws.runs_dir / run_id / "metrics.jsonl").read_text().splitlines()
    ]
    assert [e["start_iteration"] for e in events if e["type"] == "started"][-1] == at


def test_cancel_during_setup_leaves_nothing_and_restarts(
    workspace: Workspace, tiny_model_dir: Path
) -> None:
    write_tiny_set(workspace.datasets_dir, "tiny")
    # Asked as the job starts: the child is importing mlx or loading the model.
    result = _train(
        workspace,
        "tiny",
        threading.Event(),
        lambda e: e.type == "started",
        overrides={"model": str(tiny_model_dir), "iters": 400, **FAST},
    )
    run_id = result.summary["run_id"]
    assert result.summary["state"] == "cancelled"
    assert _assert_consistent(workspace, run_id) == 0
    assert not (workspace.runs_dir / run_id / "adapters" / "last").exists()
    _resume(workspace, run_id, 0)


def test_cancel_while_validating_checkpoints_exactly_the_steps_trained(
    workspace: Workspace, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GRAFTWORK_CANCEL_GRACE", "120")  # the safe point, whatever the load
    # Validation before every step over 8 batches: most of the run is validation, where the
    # batch of the coming step is already drawn but not trained (the checkpoint must not
    # count it).
    write_tiny_set(workspace.datasets_dir, "tiny", n_valid=32)
    result = _train(
        workspace,
        "tiny",
        threading.Event(),
        lambda e: e.type == "progress" and e.done >= 3,
        overrides={
            "model": str(tiny_model_dir),
            "iters": 400,
            **FAST,
            "steps_per_eval": 1,
            "val_batches": 8,
        },
    )
    run_id = result.summary["run_id"]
    assert result.summary["state"] == "cancelled"
    assert _assert_consistent(workspace, run_id) >= 3  # (resuming is the other tests' part)


@pytest.mark.parametrize("signal_name", ["SIGTERM", "SIGKILL"])
def test_a_child_stopped_by_signal_keeps_its_last_checkpoint(
    workspace: Workspace, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch, signal_name: str
) -> None:
    # No grace: the parent signals the child at once, wherever it is (mid-step, mid-save).
    monkeypatch.setattr(mlx_trainer, "TERM_AFTER", 0.0)
    monkeypatch.setattr(mlx_trainer, "KILL_AFTER", 0.0 if signal_name == "SIGKILL" else 60.0)
    write_tiny_set(workspace.datasets_dir, "tiny")
    result = _train(
        workspace,
        "tiny",
        threading.Event(),
        lambda e: e.type == "progress" and e.done >= 5,
        overrides={"model": str(tiny_model_dir), "iters": 400, **FAST},
    )
    run_id = result.summary["run_id"]
    assert result.summary["state"] == "cancelled"
    at = _assert_consistent(workspace, run_id)
    assert at >= 4  # steps_per_save 2: iteration 4 was saved before the cancel
    events = [
        json.loads(x)
        for x in (workspace.runs_dir / run_id / "metrics.jsonl").read_text().splitlines()
    ]
    assert [e["type"] for e in events].count("finished") == 1
    assert events[-1]["type"] == "finished" and events[-1]["iteration"] == at
    if signal_name == "SIGKILL":  # the harshest stop still resumes
        _resume(workspace, run_id, at)
