"""What the training widgets show, read in a worker thread (never on the UI thread) through
core.train.runs, each call with its own catalog connection."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftwork.core.base.errors import explain
from graftwork.core.base.workspace import Workspace

LOG_TAIL = 8


@dataclass
class RunSnapshot:
    run: dict[str, Any] | None
    train: list[tuple[int, float]] = field(default_factory=list)  # (iteration, loss)
    val: list[tuple[int, float]] = field(default_factory=list)
    latest: dict[str, Any] = field(default_factory=dict)  # newest train point: speed, memory, lr
    log_tail: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def running(self) -> bool:
        return bool(self.run) and self.run.get("state") == "running"  # type: ignore[union-attr]


def _tail(path: Path, n: int) -> list[str]:
    try:
        with path.open("rb") as fh:
            fh.seek(0, 2)
            fh.seek(max(0, fh.tell() - 8192))
            lines = fh.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return []
    return [line for line in lines if line.strip()][-n:]


def run_or_job(db: Any, run_or_job_id: str) -> dict[str, Any]:
    """A run by id (or prefix), else the run a `train` job drove (the Runs pane knows jobs)."""
    from graftwork.core.train.runs import RunNotFound, get_run

    try:
        return get_run(db, run_or_job_id)
    except RunNotFound:
        rows = list(db.query("select id from runs where job_id = ?", [run_or_job_id]))
        if len(rows) != 1:
            raise
        return get_run(db, rows[0]["id"])


def load_snapshot(ws: Workspace, run_id: str) -> RunSnapshot:
    from graftwork.core.train.runs import run_metrics

    with ws.catalog() as db:
        try:
            run = run_or_job(db, run_id)
            points = run_metrics(db, run["id"])
            tail: list[str] = []
            if run.get("job_id"):
                rows = db.query(
                    "select level, message from job_logs where job_id = ? order by id desc limit ?",
                    [run["job_id"], LOG_TAIL],
                )
                tail = [
                    f"{r['level']}: {r['message']}" if r["level"] != "info" else r["message"]
                    for r in rows
                ][::-1]
        except Exception as exc:  # shown in the widget
            return RunSnapshot(run=None, error=explain(exc).line)
    if not tail:
        tail = _tail(ws.runs_dir / run["id"] / "child.log", LOG_TAIL)
    snap = RunSnapshot(run=run, log_tail=tail)
    for p in points:
        if p["loss"] is None:
            continue
        (snap.train if p["kind"] == "train" else snap.val).append((p["iteration"], p["loss"]))
        if p["kind"] == "train":
            snap.latest = p
    return snap


def load_runs(ws: Workspace) -> list[dict[str, Any]]:
    from graftwork.core.train.runs import list_runs

    with ws.catalog() as db:
        return list_runs(db)


def load_curves(ws: Workspace, run_ids: list[str]) -> dict[str, RunSnapshot]:
    return {rid: load_snapshot(ws, rid) for rid in run_ids}
