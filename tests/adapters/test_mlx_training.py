"""Real LoRA training of the tiny offline model on the CPU, in a child process."""

from __future__ import annotations

import json
import math
import threading
from pathlib import Path
from typing import Any

import pytest
from support.tiny_model import write_tiny_set

from graftwork.adapters.mlx.trainer import MlxTrainer
from graftwork.core.base.jobs import JobEvent, run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.train.port import TrainError
from graftwork.core.train.runs import get_run, run_metrics
from graftwork.core.train.train import train

pytestmark = pytest.mark.mlx

FAST = {
    "batch_size": 4,
    "learning_rate": 1e-3,
    "steps_per_report": 5,
    "steps_per_eval": 10,
    "val_batches": 2,
    "lora": {"num_layers": -1},
}


def _train(
    ws: Workspace,
    set_name: str | None,
    *,
    listeners=(),
    cancel: threading.Event | None = None,
    **kw: Any,
):
    with ws.catalog() as db:
        return run_job(
            db,
            "train",
            lambda job: train(ws, set_name, trainer=MlxTrainer(), job=job, **kw),
            listeners=listeners,
            cancel_event=cancel,
        )


def _val_loss(model_dir: Path, adapter: Path, data: Path) -> float:
    """Validation loss of an adapter, computed here the way mlx-lm does (all valid batches)."""
    import mlx.core as mx
    from mlx_lm import load
    from mlx_lm.tuner.datasets import CacheDataset, ChatDataset
    from mlx_lm.tuner.trainer import evaluate

    from graftwork.adapters.mlx.child import _pad_batch, make_batches

    model, tok = load(str(model_dir), adapter_path=str(adapter))
    model.set_dtype(mx.float32)
    rows = [json.loads(line) for line in (data / "valid.jsonl").read_text().splitlines()]
    ds = CacheDataset(ChatDataset(rows, tok, mask_prompt=True))

    def batches(dataset, batch_size, max_seq_length, **_: Any):
        lens = [len(dataset[i][0]) for i in range(len(dataset))]
        for b in make_batches(lens, batch_size, True):
            yield _pad_batch([dataset[j] for j in b], max_seq_length)

    return evaluate(
        model, ds, batch_size=4, num_batches=2, max_seq_length=4095, iterate_batches=batches
    )


def test_loss_falls_best_adapter_kept_and_run_recorded(
    workspace: Workspace, tiny_model_dir: Path
) -> None:
    write_tiny_set(workspace.datasets_dir, "tiny")
    result = _train(
        workspace, "tiny", overrides={"model": str(tiny_model_dir), "iters": 30, **FAST}
    )
    s = result.summary
    assert s["state"] == "done" and s["last_iteration"] == 30

    db = workspace.catalog()
    run = get_run(db, s["run_id"])
    train_pts = run_metrics(db, run["id"], "train")
    val_pts = run_metrics(db, run["id"], "val")
    db.close()
    assert [p["iteration"] for p in train_pts] == [5, 10, 15, 20, 25, 30]
    assert train_pts[-1]["loss"] < 0.6 * train_pts[0]["loss"]
    assert val_pts[-1]["loss"] < 0.5 * val_pts[0]["loss"]
    assert all(p["tokens_per_sec"] > 0 and p["peak_memory_gb"] > 0 for p in train_pts)

    best = min(val_pts, key=lambda p: p["loss"])
    assert (run["best_iteration"], run["best_val_loss"]) == (best["iteration"], best["loss"])
    assert run["versions"]["mlx"] and run["versions"]["mlx_lm"] and run["versions"]["platform"]
    assert run["config"]["iters"] == 30 and run["config"]["model"] == str(tiny_model_dir)
    manifest = workspace.datasets_dir / "tiny" / "manifest.json"
    import hashlib

    assert run["dataset_manifest_sha256"] == hashlib.sha256(manifest.read_bytes()).hexdigest()

    rdir = workspace.runs_dir / run["id"]
    exported = json.loads((rdir / "data" / "train.jsonl").read_text().splitlines()[0])
    assert exported["tools"][0]["function"]["parameters"]["required"] == ["name"]
    assert [m["role"] for m in exported["messages"]] == ["system", "user", "assistant"]
    events = [json.loads(line) for line in (rdir / "metrics.jsonl").read_text().splitlines()]
    assert events[-1]["type"] == "finished" and events[-1]["state"] == "done"
    assert "\x1b[" not in (rdir / "child.log").read_text()  # no ANSI from mlx-lm's UI

    # The saved best adapter is the one that scored the best validation loss.
    best_state = json.loads((rdir / "adapters" / "best" / "state.json").read_text())
    assert best_state["iteration"] == run["best_iteration"]
    got = _val_loss(tiny_model_dir, rdir / "adapters" / "best", rdir / "data")
    assert math.isclose(got, run["best_val_loss"], rel_tol=1e-3)


def test_cancel_writes_checkpoint_and_resume_continues(
    workspace: Workspace, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Wait for the next batch whatever the load (by default a step over 0.8 s is not waited
    # for: the run then keeps its last checkpoint; tests/adapters/test_mlx_cancel.py).
    monkeypatch.setenv("GRAFTWORK_CANCEL_GRACE", "120")
    write_tiny_set(workspace.datasets_dir, "tiny")
    cancel = threading.Event()

    def stop_after_first_report(event: JobEvent) -> None:
        if event.type == "progress" and event.done >= 5:
            cancel.set()  # what the TUI's cancel does

    result = _train(
        workspace,
        "tiny",
        listeners=[stop_after_first_report],
        cancel=cancel,
        # steps_per_save 2: iteration 4 is saved before the cancel. A cancel that finds no safe
        # point within the child's grace (a slow step on a loaded machine) stops without a new
        # checkpoint and keeps that one; either way the run resumes from a whole checkpoint.
        overrides={"model": str(tiny_model_dir), "iters": 400, **FAST, "steps_per_save": 2},
    )
    s = result.summary
    assert s["state"] == "cancelled"
    stopped = s["last_iteration"]
    assert 4 <= stopped < 400
    db = workspace.catalog()
    run = get_run(db, s["run_id"])
    job = db["jobs"].get(run["job_id"])
    db.close()
    assert run["state"] == "cancelled" and job["state"] == "cancelled"
    last = workspace.runs_dir / run["id"] / "adapters" / "last"
    state = json.loads((last / "state.json").read_text())
    assert state["iteration"] == stopped and state["optimizer_step"] == stopped
    assert (last / "adapters.safetensors").stat().st_size > 0

    import mlx.core as mx

    saved_opt = mx.load(str(last / "optimizer.safetensors"))
    assert saved_opt["step"].item() == stopped

    # Resume: continues at the saved iteration with the saved optimizer state.
    starts: list[dict[str, Any]] = []
    resumed = _train(
        workspace,
        None,
        resume=run["id"][:15],
        overrides={"iters": stopped + 6},
        listeners=[lambda e: starts.append(e) if e.type == "log" else None],
    )
    assert resumed.summary["state"] == "done"
    assert (
        resumed.summary["run_id"] == run["id"] and resumed.summary["last_iteration"] == stopped + 6
    )
    events = [
        json.loads(line)
        for line in (workspace.runs_dir / run["id"] / "metrics.jsonl").read_text().splitlines()
    ]
    started = [e for e in events if e["type"] == "started"]
    assert [e["start_iteration"] for e in started] == [0, stopped]
    assert started[1]["optimizer_step"] == stopped  # Adam's step count (and moments) restored
    final = json.loads((last / "state.json").read_text())
    assert final["iteration"] == final["optimizer_step"] == stopped + 6
    # The adapter weights were restored too: the resumed run starts far below the untrained loss.
    vals = [e for e in events if e["type"] == "val"]
    first_resumed = next(
        e for e in vals if e["iteration"] == stopped and e["ts"] >= started[1]["ts"]
    )
    assert first_resumed["loss"] < 0.8 * vals[0]["loss"]

    with pytest.raises(TrainError, match="already reached"):
        _train(workspace, None, resume=run["id"], overrides={})


def test_too_long_examples_stop_the_run_or_are_dropped(
    workspace: Workspace, tiny_model_dir: Path
) -> None:
    write_tiny_set(workspace.datasets_dir, "long", long_lines={"train": 2})
    overrides = {"model": str(tiny_model_dir), "iters": 3, "max_seq_length": 300, **FAST}
    with pytest.raises(TrainError) as err:
        _train(workspace, "long", overrides=overrides)
    msg = str(err.value)
    assert "2 example(s) longer than max_seq_length 300" in msg
    assert "train-32" in msg and "train-33" in msg and "--drop-long" in msg
    db = workspace.catalog()
    failed = next(iter(db["runs"].rows))
    db.close()
    assert failed["state"] == "failed" and "max_seq_length" in failed["error"]

    result = _train(workspace, "long", overrides=overrides, drop_long=True)
    assert result.summary["state"] == "done"
    assert [item for item, _ in result.skipped] == ["train-32", "train-33"]
    rdir = workspace.runs_dir / result.summary["run_id"]
    started = next(
        json.loads(line)
        for line in (rdir / "metrics.jsonl").read_text().splitlines()
        if '"started"' in line
    )
    assert started["n_train"] == 32


def test_a_diverging_run_is_followed_to_its_end(workspace: Workspace, tiny_model_dir: Path) -> None:
    # NaN losses reach the parent as None; following them must not crash the run.
    write_tiny_set(workspace.datasets_dir, "tiny")
    result = _train(
        workspace,
        "tiny",
        overrides={
            "model": str(tiny_model_dir),
            "iters": 4,
            **FAST,
            "optimizer": "sgd",
            "learning_rate": 1e30,
            "steps_per_eval": 2,
        },
    )
    assert result.summary["state"] == "done"
    events = [
        json.loads(line)
        for line in (workspace.runs_dir / result.summary["run_id"] / "metrics.jsonl")
        .read_text()
        .splitlines()
    ]
    assert any(e["type"] == "val" and e["loss"] is None for e in events)


def test_length_buckets_group_similar_lengths() -> None:
    from graftwork.adapters.mlx.child import make_batches

    lens = [10, 500, 12, 480, 11, 490, 13, 470]
    assert make_batches(lens, 4, True) == [[0, 4, 2, 6], [7, 3, 5, 1]]
    assert make_batches(lens, 4, False) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert make_batches(lens, 3, True) == [[0, 4, 2], [6, 7, 3]]  # a short tail batch is left out
