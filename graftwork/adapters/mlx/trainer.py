"""Parent side of training: prepare runs/<run-id>/, spawn the child, follow its events.

The child is a separate Python process (not a thread: MLX in a thread can abort the process
at exit, P4), started in its own session so a terminal Ctrl-C reaches only us; we then ask it
to stop through a cancel file and it writes a checkpoint first.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import selectors
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftwork.core.base.atomic import write_json, write_text
from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import sha256_text
from graftwork.core.dataset.sets import mlx_chat_line, read_format
from graftwork.core.train import runs as runs_mod
from graftwork.core.train.config import TrainConfig, load_train_config
from graftwork.core.train.events import decode, encode
from graftwork.core.train.mixing import mix_public

OPENBLAS = Path("/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblas.so.0")


class TrainError(GraftworkError):
    """Training could not start or the child failed; the run is marked failed."""


def child_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment of a child that runs MLX: offline hub, OpenBLAS on Linux (P1)."""
    env = dict(os.environ)
    env["HF_HUB_OFFLINE"] = "1"
    env.setdefault("TOKENIZERS_PARALLELISM", "false")
    if (
        sys.platform.startswith("linux")
        and OPENBLAS.exists()
        and str(OPENBLAS) not in env.get("LD_PRELOAD", "")
    ):
        env["LD_PRELOAD"] = " ".join(p for p in (str(OPENBLAS), env.get("LD_PRELOAD", "")) if p)
    env.update(extra or {})
    return env


def resolve_model(ws: Workspace, model: str) -> str:
    """A local folder (absolute, or relative to the workspace) or else a hub repo id."""
    path = Path(model).expanduser()
    for candidate in (path, ws.root / path):
        if candidate.is_dir():
            return str(candidate.resolve())
    if model.startswith((".", "/", "~")) or model.count("/") != 1:
        raise TrainError(f"model {model!r}: no such folder (and not a hub repo id like org/name)")
    return model


def _set_folder(ws: Workspace, set_name: str) -> Path:
    folder = ws.datasets_dir / set_name
    if not (folder / "train.jsonl").is_file():
        known = sorted(p.parent.name for p in ws.datasets_dir.glob("*/train.jsonl"))
        hint = f"built sets: {', '.join(known)}" if known else "no set is built yet"
        raise TrainError(
            f"set {set_name!r} is not built: {folder / 'train.jsonl'} is missing "
            f"(run `graftwork build`; {hint})"
        )
    return folder


def _labels(by_sha: dict[str, str], lines: list[str]) -> list[str]:
    """Item ids for lines ("" when the manifest does not know the line)."""
    return [by_sha.get(sha256_text(line), "") for line in lines]


def _ids_by_sha(folder: Path) -> dict[str, str]:
    """example_sha256 -> item id from the set's manifest.json (as build writes it)."""
    by_sha: dict[str, str] = {}
    with contextlib.suppress(OSError, ValueError, AttributeError, TypeError):
        for item in (
            json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("items") or []
        ):
            if item.get("example_sha256") and item.get("id"):
                by_sha[item["example_sha256"]] = item["id"]
    return by_sha


def export_set(ws: Workspace, set_name: str, data_dir: Path) -> dict[str, list[str]]:
    """Write the set as mlx-lm chat JSONL into data_dir; return item labels per split."""
    folder = _set_folder(ws, set_name)
    data_dir.mkdir(parents=True, exist_ok=True)
    by_sha = _ids_by_sha(folder)  # read once for all splits
    set_format = read_format(folder)  # apple or chat lines
    labels: dict[str, list[str]] = {}
    for split in ("train", "valid", "test"):
        src = folder / f"{split}.jsonl"
        if not src.is_file():
            continue
        lines = [ln for ln in src.read_text(encoding="utf-8").splitlines() if ln.strip()]
        out = []
        for n, line in enumerate(lines, 1):
            try:
                out.append(mlx_chat_line(line, set_format))
            except (ValueError, KeyError, TypeError) as exc:
                what = "an Apple-schema example" if set_format == "apple" else "a chat record"
                raise TrainError(f"{src}:{n}: not {what} ({exc})") from None
        write_text(data_dir / f"{split}.jsonl", "".join(line + "\n" for line in out))
        labels[split] = _labels(by_sha, lines)
    return labels


def manifest_sha256(ws: Workspace, set_name: str) -> str | None:
    path = ws.datasets_dir / set_name / "manifest.json"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None


@dataclass
class Outcome:
    state: str = "failed"
    error: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)


def run_child(
    spec: dict[str, Any],
    run_dir: Path,
    on_event: Callable[[dict[str, Any]], None],
    should_cancel: Callable[[], bool],
) -> Outcome:
    """Spawn the child and feed its events to ``on_event`` until it ends.

    Ctrl-C (KeyboardInterrupt) or ``should_cancel()`` asks the child to checkpoint and stop;
    a second Ctrl-C kills it."""
    spec_path = run_dir / "spec.json"
    write_json(spec_path, spec)
    cancel_file = Path(spec["cancel_file"])
    cancel_file.unlink(missing_ok=True)
    read_fd, write_fd = os.pipe()
    log = open(run_dir / "child.log", "ab")  # noqa: SIM115 (closed below; the child writes into it)
    try:
        proc = subprocess.Popen(
            [sys.executable, "-m", "graftwork.adapters.mlx.child", str(spec_path), str(write_fd)],
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            pass_fds=(write_fd,),
            env=child_env(),
            start_new_session=True,
        )
    finally:
        os.close(write_fd)
        log.close()
    outcome = Outcome()
    # Raw reads + our own line splitting: a buffered reader could hold complete lines that
    # select() no longer reports, delaying live progress.
    sel = selectors.DefaultSelector()
    sel.register(read_fd, selectors.EVENT_READ)
    pending = b""
    interrupts = 0
    try:
        while True:
            try:
                if sel.select(timeout=0.2):
                    chunk = os.read(read_fd, 65536)
                    if not chunk:  # child closed the pipe: it is exiting
                        break
                    *lines, pending = (pending + chunk).split(b"\n")
                    for line in lines:
                        event = decode(line.decode("utf-8", errors="replace"))
                        if event is not None:
                            outcome.events.append(event)
                            if event["type"] == "finished":
                                outcome.final = event
                            on_event(event)
                if should_cancel() and not cancel_file.exists():
                    cancel_file.touch()
            except KeyboardInterrupt:
                interrupts += 1
                cancel_file.touch()
                if interrupts > 1:
                    proc.kill()
    except BaseException:
        cancel_file.touch()  # we cannot follow it any more: let it checkpoint and stop
        raise
    finally:
        sel.close()
        os.close(read_fd)
        rc = _wait(proc)
    if outcome.final:
        outcome.state = outcome.final.get("state", "failed")
        outcome.error = outcome.final.get("error")
    else:
        outcome.state = "cancelled" if interrupts > 1 else "failed"
        outcome.error = f"the training process ended without a result (exit code {rc}); see {run_dir / 'child.log'}"
    return outcome


def _owner_alive(rdir: Path) -> bool:
    """Whether the process that follows this run still exists (a killed one leaves 'running')."""
    try:
        pid = int((rdir / "owner.pid").read_text())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return False
    return True


def _wait(proc: subprocess.Popen[bytes]) -> int:
    while True:
        try:
            return proc.wait(timeout=60)
        except KeyboardInterrupt:
            proc.kill()
        except subprocess.TimeoutExpired:
            proc.kill()


def train(
    ws: Workspace,
    set_name: str | None,
    *,
    overrides: dict[str, Any] | None = None,
    resume: str | None = None,
    drop_long: bool = False,
    job: Job,
    config_file: Path | None = None,
) -> StageResult:
    """Train (or resume) a LoRA run. The Job gets total/progress (iterations) and log lines."""
    with ws.catalog() as db:
        return _train(ws, db, set_name, overrides or {}, resume, drop_long, job, config_file)


def _load_config(ws: Workspace, overrides: dict[str, Any], config_file: Path | None) -> TrainConfig:
    return load_train_config(ws, overrides, defaults_file=config_file)


def _train(
    ws: Workspace,
    db: Any,
    set_name: str | None,
    overrides: dict[str, Any],
    resume: str | None,
    drop_long: bool,
    job: Job,
    config_file: Path | None,
) -> StageResult:
    total_iters: int | None = None
    mixed: dict[str, Any] | None = None
    restart = False
    if resume:
        run = runs_mod.get_run(db, resume)
        if run["state"] == "running" and _owner_alive(ws.runs_dir / run["id"]):
            raise TrainError(f"run {run['id']} is still running")
        run_id, set_name = run["id"], run["set_name"]
        rdir = ws.runs_dir / run_id
        state_path = rdir / "adapters" / "last" / "state.json"
        # Killed before its first checkpoint: restart it from iteration 0 with the same
        # settings and the data it exported, rather than leave it unusable.
        restart = not state_path.is_file()
        if restart and not (
            (rdir / "spec.json").is_file() and (rdir / "data" / "train.jsonl").is_file()
        ):
            raise TrainError(
                f"run {run_id} stopped before it exported its data or wrote a checkpoint; "
                f"start a new run: graftwork train --set {set_name}"
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
    else:
        if not set_name:
            raise TrainError("pass --set NAME (or --resume RUN)")
        cfg = _load_config(ws, overrides, config_file)
        model = resolve_model(ws, cfg.model)
        cfg = cfg.model_copy(update={"model": model})
        _set_folder(ws, set_name)
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
    try:
        if resume:  # a resumed run trains on the data it exported at the start, not a rebuilt set
            old = json.loads((rdir / "spec.json").read_text(encoding="utf-8"))
            labels, drop_long = old.get("labels", {}), bool(old.get("drop_long"))
            if not (rdir / "data" / "train.jsonl").is_file():
                raise TrainError(f"{rdir / 'data' / 'train.jsonl'} is missing; cannot resume")
        else:
            labels = export_set(ws, set_name, rdir / "data")
            if cfg.public_dataset:
                mixed = mix_public(
                    rdir / "data" / "train.jsonl", cfg.public_dataset, cfg.public_dataset_size
                )
                labels.setdefault("train", []).extend(
                    f"public:{n}" for n in range(mixed["records"])
                )
                job.log(
                    f"mixed {mixed['records']} records of {mixed['source']} into the training "
                    f"split ({mixed['own_records']} of the set's own; {mixed['skipped']} unusable "
                    "records skipped)"
                )
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
        "cancel_file": str(rdir / "CANCEL"),
    }
    if mixed is not None:
        spec["public_dataset"] = mixed  # the run records what was mixed in
    metrics_path = rdir / "metrics.jsonl"

    def on_event(event: dict[str, Any]) -> None:
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

    write_text(
        rdir / "owner.pid", str(os.getpid())
    )  # lets --resume tell a killed run from a live one
    metrics = metrics_path.open(
        "a", encoding="utf-8"
    )  # open for the whole run: one write per event
    try:
        outcome = run_child(spec, rdir, on_event, lambda: job.cancelled)
    except BaseException as exc:
        runs_mod.update_run(
            db, run_id, state="failed", error=f"{type(exc).__name__}: {exc}", ended_at=now()
        )
        raise
    finally:
        metrics.close()
    if outcome.state == "cancelled" and not job.cancelled:
        job.cancel()  # Ctrl-C in the CLI: the job ends as cancelled, like a TUI cancel
    runs_mod.update_run(db, run_id, state=outcome.state, error=outcome.error, ended_at=now())
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
        outputs=[rdir / "adapters" / "best", rdir / "adapters" / "last", metrics_path],
    )
    for event in outcome.events:
        if event["type"] == "log" and event.get("too_long"):
            result.skipped.extend(
                (m["label"], f"{m['tokens']} tokens > max_seq_length") for m in event["too_long"]
            )
    return result
