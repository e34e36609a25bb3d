"""Jobs: every long piece of work (ingest, analyze, budget, build, train, teach, ...) runs as a
Job that reports progress and log lines to listeners (a rich progress bar in the CLI, the Runs
pane in the TUI) and keeps them in the catalog after it ends. Cancellation is cooperative."""

from __future__ import annotations

import json
import os
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from graftwork.core.base.catalog.liveness import HOST, owner_gone, started_at
from graftwork.core.base.catalog.txn import now, write_txn
from graftwork.core.base.errors import GraftworkError


class Cancelled(Exception):
    """Raised inside a job's work when someone asked it to stop."""


@dataclass(frozen=True)
class JobEvent:
    job_id: str
    job_kind: str
    type: str  # started | total | progress | log | finished
    done: int = 0
    total: int | None = None
    failed: int = 0
    level: str = "info"
    message: str = ""
    item_id: str | None = None
    state: str = "running"
    # The log line of the exception that ends a job: the caller reports that exception
    # itself (CLI: one "error:" line with its exit code), so consoles skip this echo of it.
    fatal: bool = False


Listener = Callable[[JobEvent], None]


@dataclass
class StageResult:
    """What a stage did: counts, per-item failures (item, cause) and files written."""

    ok: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    outputs: list[Path] = field(default_factory=list)
    summary: dict[str, Any] = field(default_factory=dict)

    @property
    def exit_code(self) -> int:
        return 1 if self.failed else 0


class Job:
    """Progress, logs and cancellation for one unit of work. Use one Job per thread."""

    PERSIST_EVERY = 0.25  # seconds between progress writes to the catalog

    def __init__(
        self,
        db: sqlite_utils.Database | None,
        kind: str,
        params: dict[str, Any] | None = None,
        listeners: Iterable[Listener] = (),
        cancel_event: threading.Event | None = None,
    ) -> None:
        self.id = uuid.uuid4().hex[:12]
        self.kind = kind
        self.db = db
        self.listeners = list(listeners)
        self.total: int | None = None
        self.done = 0
        self.failed = 0
        self.state = "running"
        self._cancel = cancel_event or threading.Event()
        self._last_persist = 0.0
        if db is not None:
            row = {
                "id": self.id,
                "kind": kind,
                "state": "running",
                "params": json.dumps(params or {}, ensure_ascii=False, default=str),
                "total": None,
                "done": 0,
                "failed": 0,
                "started_at": now(),
                "pid": os.getpid(),
                "host": HOST,
                "heartbeat_at": now(),
            }
            with write_txn(db):  # the check and the insert together: two starts cannot race
                if is_exclusive(kind):
                    _refuse_if_running(db, kind)
                db["jobs"].insert(row)
        self._emit("started")

    # -- reporting -------------------------------------------------------------------
    def _emit(self, type_: str, **kw: Any) -> None:
        if not self.listeners:  # nobody listens (a bench, a test): no event per item
            return
        event = JobEvent(
            job_id=self.id,
            job_kind=self.kind,
            type=type_,
            done=self.done,
            total=self.total,
            failed=self.failed,
            state=self.state,
            **kw,
        )
        for listener in self.listeners:
            listener(event)

    def _persist(self, force: bool = False) -> None:
        if self.db is None:
            return
        t = time.monotonic()
        if force or t - self._last_persist >= self.PERSIST_EVERY:
            self._last_persist = t
            self.db["jobs"].update(
                self.id,
                {
                    "total": self.total,
                    "done": self.done,
                    "failed": self.failed,
                    "state": self.state,
                    "heartbeat_at": now(),
                },
            )

    def set_total(self, total: int) -> None:
        self.total = total
        self._persist(force=True)
        self._emit("total")

    def advance(self, n: int = 1, item_id: str | None = None, message: str = "") -> None:
        self.done += n
        self._persist()
        self._emit("progress", item_id=item_id, message=message)

    def log(
        self, message: str, level: str = "info", item_id: str | None = None, *, fatal: bool = False
    ) -> None:
        if self.db is not None:
            self.db["job_logs"].insert(
                {
                    "job_id": self.id,
                    "ts": now(),
                    "level": level,
                    "item_id": item_id,
                    "message": message,
                }
            )
        self._emit("log", level=level, message=message, item_id=item_id, fatal=fatal)

    def item_failed(self, item_id: str, cause: str) -> None:
        """One item failed: counted, logged with its cause, and the run goes on."""
        self.failed += 1
        self.log(f"{item_id}: {cause}", level="error", item_id=item_id)

    # -- cancellation ----------------------------------------------------------------
    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def check_cancelled(self) -> None:
        if self._cancel.is_set():
            raise Cancelled(f"{self.kind} cancelled")

    # -- end ---------------------------------------------------------------------------
    def finish(
        self,
        state: str | None = None,
        summary: dict[str, Any] | None = None,
        error: str | None = None,
    ) -> None:
        if state is None:
            state = "cancelled" if self.cancelled else ("partial" if self.failed else "done")
        self.state = state
        if self.db is not None:
            self.db["jobs"].update(
                self.id,
                {
                    "state": state,
                    "total": self.total,
                    "done": self.done,
                    "failed": self.failed,
                    "ended_at": now(),
                    "error": error,
                    "summary": json.dumps(summary or {}, ensure_ascii=False, default=str),
                },
            )
        self._emit("finished", message=error or "")


# ---- liveness: who owns a running job ------------------------------------------------------

# Stages that must not overlap on one workspace: two would download into the same folders,
# or send (and pay for) the same teacher calls. Read-only stages never block.
# "teach.drafts" (a plan stage) counts as teach: one run per kind at a time.
EXCLUSIVE_KINDS = frozenset({"ingest", "teach"})


def is_exclusive(kind: str) -> bool:
    return kind.split(".", 1)[0] in EXCLUSIVE_KINDS


class AlreadyRunning(GraftworkError):
    exit_code = 2


def _refuse_if_running(db: sqlite_utils.Database, kind: str) -> None:
    for row in db.query("select * from jobs where state = 'running' and kind = ?", [kind]):
        if not owner_gone(row):
            raise AlreadyRunning(
                f"{kind} is already running on this workspace (job {row['id']}, pid "
                f"{row['pid']} on {row['host']}, started {started_at(row)} UTC); wait for it to "
                "finish or stop it"
            )


def stage_db(ws: Any, job: Job, db: sqlite_utils.Database | None = None) -> sqlite_utils.Database:
    """The connection a stage works on: the one passed in, else the job's (run_job gives every
    job one), else a new one for a bare call (the caller's thread owns it)."""
    if db is not None:
        return db
    return job.db if job.db is not None else ws.catalog()


def run_job(
    db: sqlite_utils.Database | None,
    kind: str,
    work: Callable[[Job], StageResult],
    params: dict[str, Any] | None = None,
    listeners: Iterable[Listener] = (),
    cancel_event: threading.Event | None = None,
) -> StageResult:
    """Run ``work`` as a job: always finished in the catalog, whatever happens."""
    job = Job(db, kind, params, listeners, cancel_event)
    try:
        result = work(job)
    except Cancelled:
        job.finish("cancelled")
        raise
    except Exception as exc:
        job.log(f"{type(exc).__name__}: {exc}", level="error", fatal=True)
        job.finish("failed", error=str(exc))
        raise
    job.finish(summary=result.summary)
    return result


def newest_summary(db: Any, kind: str) -> dict[str, Any] | None:
    """The summary of the newest finished (done or partial) job of ``kind``, or None."""
    row = db.execute(
        "SELECT summary FROM jobs WHERE kind = ? AND state IN ('done', 'partial') "
        "ORDER BY id DESC LIMIT 1",
        [kind],
    ).fetchone()
    return json.loads(row[0] or "{}") if row else None
