"""The train stage: start or resume a LoRA run on a built set, through a Trainer backend.

The rules live here, not in the backend: which settings a resume may change, when a run is
still live, the run registry (runs table, metrics.jsonl), the export of the set's data, and how
the backend's events drive the Job. The backend (port.Trainer; mlx-lm in
graftwork/adapters/mlx/trainer.py) only runs the prepared run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, TextIO

from graftwork.core.base.atomic import sweep_staged, write_json, write_text
from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.exporters import set_dir
from graftwork.core.train import runs as runs_mod
from graftwork.core.train.config import TrainConfig, load_train_config
from graftwork.core.train.data import export_set, manifest_sha256
from graftwork.core.train.events import encode
from graftwork.core.train.mixing import mix_public
from graftwork.core.train.port import Outcome, Trainer, TrainError

# In the run's folder: the backend stops the run once it exists (core/train/cancel.py
# writes it for `graftwork runs --cancel` and other windows).
CANCEL_FILE = "CANCEL"


def resolve_model(ws: Workspace, model: str) -> str:
    """A local folder (absolute, or relative to the workspace) or else a hub repo id."""
    path = Path(model).expanduser()
    for candidate in (path, ws.root / path):
        if candidate.is_dir():
            return str(candidate.resolve())
    if model.startswith((".", "/", "~")) or model.count("/") != 1:
        raise TrainError(f"model {model!r}: no such folder (and not a hub repo id like org/name)")
    return model


def owner_alive(rdir: Path) -> bool:
    """Whether the process that follows this run still exists (a killed one leaves 'running')."""
    try:
        pid = int((rdir / "owner.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def train(
    ws: Workspace,
    set_name: str | None,
    *,
    trainer: Trainer,
    overrides: dict[str, Any] | None = None,
    resume: str | None = None,
    drop_long: bool = False,
    job: Job,
    config_file: Path | None = None,
) -> StageResult:
    """Train (or resume) a LoRA run. The Job gets total/progress (iterations) and log lines."""
    with ws.catalog() as db:
        overrides = overrides or {}
        if resume:
            run_id, rdir, cfg, total_iters, restart = _resume(ws, db, resume, overrides, job)
        else:
            run_id, rdir, cfg, total_iters = _start(ws, db, set_name, overrides, config_file, job)
            restart = False
        mixed: dict[str, Any] | None = None
        try:
            if resume:  # a resumed run trains on the data it exported at the start
                old = json.loads((rdir / "spec.json").read_text(encoding="utf-8"))
                labels, drop_long = old.get("labels", {}), bool(old.get("drop_long"))
                if not (rdir / "data" / "train.jsonl").is_file():
                    raise TrainError(f"{rdir / 'data' / 'train.jsonl'} is missing; cannot resume")
            else:
                labels = export_set(ws, set_name or "", rdir / "data")
                mixed = _mix_public(cfg, rdir, labels, job)
        except (GraftworkError, OSError, ValueError) as exc:
            runs_mod.update_run(db, run_id, state="failed", error=str(exc), ended_at=now())
            raise
        spec = {
            "model": cfg.model,
            "run_dir": str(rdir),
            "data_dir": str(rdir / "data"),
            "config": cfg.model_dump(),
            "total_iters": total_iters,
            "resume": bool(resume) and not restart,
            "drop_long": drop_long,
            "labels": labels,
            "cancel_file": str(rdir / CANCEL_FILE),
        }
        if mixed is not None:
            spec["public_dataset"] = mixed  # the run records what was mixed in
        outcome = _run(db, run_id, rdir, spec, trainer, job)
        return _result(db, run_id, rdir, outcome)


def _mix_public(
    cfg: TrainConfig, rdir: Path, labels: dict[str, list[str]], job: Job
) -> dict[str, Any] | None:
    """Mix the configured public instruction dataset into the training split (readmes)."""
    if not cfg.public_dataset:
        return None
    mixed = mix_public(rdir / "data" / "train.jsonl", cfg.public_dataset, cfg.public_dataset_size)
    labels.setdefault("train", []).extend(f"public:{n}" for n in range(mixed["records"]))
    job.log(
        f"mixed {mixed['records']} records of {mixed['source']} into the training "
        f"split ({mixed['own_records']} of the set's own; {mixed['skipped']} unusable "
        "records skipped)"
    )
    return mixed


def _resume(
    ws: Workspace, db: Any, resume: str, overrides: dict[str, Any], job: Job
) -> tuple[str, Path, TrainConfig, int | None, bool]:
    """A resumed run keeps its settings; only --iters may move its end further. The last item
    is true for a restart: a run killed before its first checkpoint starts again from 0."""
    run = runs_mod.get_run(db, resume)
    if run["state"] == "running" and owner_alive(ws.runs_dir / run["id"]):
        raise TrainError(f"run {run['id']} is still running")
    run_id = run["id"]
    rdir = ws.runs_dir / run_id
    # A process killed while replacing the checkpoint folder may have left it moved aside.
    sweep_staged(rdir / "adapters" / "last")
    state_path = rdir / "adapters" / "last" / "state.json"
    # Killed before its first checkpoint: restart it from iteration 0 with the same
    # settings and the data it exported, rather than leave it unusable.
    restart = not state_path.is_file()
    if restart and not (
        (rdir / "spec.json").is_file() and (rdir / "data" / "train.jsonl").is_file()
    ):
        raise TrainError(
            f"run {run_id} stopped before it exported its data or wrote a checkpoint; "
            f"start a new run: graftwork train --set {run['set_name']}"
        )
    saved = {"iteration": 0} if restart else json.loads(state_path.read_text())
    flags = {k: v for k, v in overrides.items() if v is not None}
    unsupported = sorted(set(flags) - {"iters"})
    if unsupported:
        raise TrainError(
            f"--resume keeps the run's settings; only --iters may change (got {', '.join(unsupported)})"
        )
    cfg = TrainConfig.model_validate(run["config"])
    total_iters = flags.get("iters") or saved.get("total_iters") or run.get("total_iters")
    if total_iters is not None and saved["iteration"] >= total_iters:
        raise TrainError(
            f"run {run_id} already reached iteration {saved['iteration']} of {total_iters}; "
            f"pass --iters N with N > {saved['iteration']} to train further"
        )
    if total_iters is not None:  # (None: an epochs run killed before it counted them)
        cfg = cfg.model_copy(update={"iters": total_iters, "epochs": None})
    runs_mod.update_run(
        db,
        run_id,
        state="running",
        ended_at=None,
        error=None,
        job_id=job.id,
        total_iters=total_iters,
        config=cfg.model_dump(),
    )
    if restart:
        job.log(f"restarting run {run_id} from iteration 0 (it stopped before a checkpoint)")
    else:
        job.log(f"resuming run {run_id} at iteration {saved['iteration']} of {total_iters}")
    return run_id, rdir, cfg, total_iters, restart


def _start(
    ws: Workspace,
    db: Any,
    set_name: str | None,
    overrides: dict[str, Any],
    config_file: Path | None,
    job: Job,
) -> tuple[str, Path, TrainConfig, None]:
    """A new run: settings from configs/train.yaml, graftwork.yaml, --config and flags."""
    if not set_name:
        raise TrainError("pass --set NAME (or --resume RUN)")
    cfg = load_train_config(ws, overrides, defaults_file=config_file)
    model = resolve_model(ws, cfg.model)
    cfg = cfg.model_copy(update={"model": model})
    set_dir(ws, set_name)  # before a run row exists: an unknown set leaves no failed run
    run_id = runs_mod.new_run_id(set_name)
    rdir = ws.runs_dir / run_id
    rdir.mkdir(parents=True)
    runs_mod.create_run(
        db,
        id=run_id,
        set_name=set_name,
        config=cfg.model_dump(),
        dataset_manifest_sha256=manifest_sha256(ws, set_name),
        adapter_dir=str(rdir / "adapters"),
        job_id=job.id,
        total_iters=cfg.iters if cfg.epochs is None else None,
    )
    job.log(f"run {run_id}: set {set_name}, model {model}")
    return run_id, rdir, cfg, None


def _run(
    db: Any, run_id: str, rdir: Path, spec: dict[str, Any], trainer: Trainer, job: Job
) -> Outcome:
    """Run the backend; every event goes to metrics.jsonl, the catalog and the Job."""
    write_json(rdir / "spec.json", spec)  # what --resume reads back (labels, drop_long)
    write_text(
        rdir / "owner.pid", str(os.getpid())
    )  # lets --resume tell a killed run from a live one
    # open for the whole run: one write per event
    with (rdir / "metrics.jsonl").open("a", encoding="utf-8") as metrics:
        try:
            outcome = trainer.run(
                spec,
                rdir,
                lambda event: _on_event(db, run_id, metrics, job, event),
                lambda: job.cancelled,
            )
        except BaseException as exc:
            runs_mod.update_run(
                db, run_id, state="failed", error=f"{type(exc).__name__}: {exc}", ended_at=now()
            )
            raise
    if outcome.state == "cancelled":
        if not job.cancelled:
            job.cancel()  # Ctrl-C, `runs --cancel`: the job ends cancelled, like a TUI cancel
        how = outcome.final.get("stopped_by")
        job.log(
            f"cancelled; the run resumes from iteration {outcome.final.get('iteration') or 0}"
            + (f" (the training process was stopped with {how})" if how else ""),
            level="warning",
        )
    runs_mod.update_run(db, run_id, state=outcome.state, error=outcome.error, ended_at=now())
    return outcome


def _on_event(db: Any, run_id: str, metrics: TextIO, job: Job, event: dict[str, Any]) -> None:
    metrics.write(encode({"run_id": run_id, **event}) + "\n")
    metrics.flush()  # followers (the TUI, tests) read the file while the run goes on
    runs_mod.record_event(db, run_id, event)
    kind = event["type"]
    if kind == "started":
        runs_mod.update_run(db, run_id, total_iters=event["total_iters"])
        job.set_total(event["total_iters"])
        if event["start_iteration"]:
            job.advance(event["start_iteration"])
    elif kind == "train":
        job.advance(
            max(0, event["iteration"] - job.done),
            message=f"loss {event['loss']:.3f}" if event.get("loss") is not None else "",
        )
    elif kind == "val":  # loss is None when it was NaN/inf (a diverging run)
        loss = f"{event['loss']:.4f}" if event.get("loss") is not None else "not finite"
        job.log(
            f"iteration {event['iteration']}: val loss {loss}"
            + (" (best)" if event.get("best") else "")
        )
    elif kind == "log":
        job.log(event.get("message", ""), level=event.get("level", "info"))
    elif kind == "checkpoint" and event.get("reason") == "cancel":
        job.log(f"checkpoint written at iteration {event['iteration']}")


def _result(db: Any, run_id: str, rdir: Path, outcome: Outcome) -> StageResult:
    run = runs_mod.get_run(db, run_id)
    summary = {
        k: run.get(k) for k in ("best_val_loss", "best_iteration", "last_iteration", "total_iters")
    }
    summary.update(run_id=run_id, state=outcome.state, adapter_dir=str(rdir / "adapters"))
    if outcome.state == "failed":
        raise TrainError(f"run {run_id} failed: {outcome.error}")
    result = StageResult(
        ok=1 if outcome.state == "done" else 0,
        summary=summary,
        outputs=[rdir / "adapters" / "best", rdir / "adapters" / "last", rdir / "metrics.jsonl"],
    )
    for event in outcome.events:  # examples dropped for length (--drop-long) are skipped items
        if event["type"] == "log" and event.get("too_long"):
            result.skipped.extend(
                (m["label"], f"{m['tokens']} tokens > max_seq_length") for m in event["too_long"]
            )
    return result
