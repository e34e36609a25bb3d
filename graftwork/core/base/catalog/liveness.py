"""Who owns a running job, and what to do when the owner is gone. Kept apart from jobs.py
so that opening the catalog (which reaps dead jobs) needs no import of the Job machinery."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from graftwork.core.base.catalog.txn import now, write_txn
from graftwork.core.base.process import command_line, pid_alive, write_lock_pids
from graftwork.core.base.resume import resume_hint

HOST = socket.gethostname()
# A job on another machine (a shared folder) is presumed dead after this long without a
# heartbeat; on this machine its pid answers at once.
REMOTE_STALE_SECONDS = 3600


def owner_gone(row: dict[str, Any]) -> bool:
    """Whether the process that ran a 'running' job row no longer exists."""
    pid, host = row.get("pid"), row.get("host")
    if pid is None:
        return True  # written before owners were recorded: its process is long gone
    if host == HOST:
        return pid != os.getpid() and not pid_alive(int(pid))
    beat = row.get("heartbeat_at") or row.get("started_at")
    try:
        age = (datetime.now(UTC) - datetime.fromisoformat(beat)).total_seconds()
    except (TypeError, ValueError):
        return True
    return age > REMOTE_STALE_SECONDS


def started_at(row: dict[str, Any]) -> str:
    return (row.get("started_at") or "")[:19].replace("T", " ")


_ORPHAN_RUNS = (
    "select id from runs where state = 'running' and job_id in "
    "(select id from jobs where state not in ('running', 'done', 'partial'))"
)


def reap_interrupted(db: sqlite_utils.Database) -> list[str]:
    """Mark running jobs whose process is gone as interrupted, with the training runs they
    drove; the job ids marked. Called whenever the catalog is opened for writing. Best
    effort: it reads first and writes only when something is stale, and never waits for a
    lock (the next open will do it)."""
    try:
        dead = [r for r in db.query("select * from jobs where state = 'running'") if owner_gone(r)]
        has_runs = db["runs"].exists()
        orphans = [r["id"] for r in db.query(_ORPHAN_RUNS)] if has_runs else []
    except sqlite3.OperationalError:
        return []  # tables not there yet (migrations not applied)
    if not dead and not orphans:
        return []
    stamp = now()
    conn = db.conn
    waited = conn.execute("PRAGMA busy_timeout").fetchone()[0]
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        with write_txn(db):
            for r in dead:
                owner = f" (pid {r['pid']} on {r['host']})" if r.get("pid") else ""
                hint = resume_hint(r["kind"] or "", _params(r), _run_of(db, r["id"], has_runs))
                cause = f"interrupted: its process{owner} ended without finishing (killed?); {hint}"
                db.execute(
                    "update jobs set state = 'interrupted', ended_at = ?, error = ? "
                    "where id = ? and state = 'running'",
                    [stamp, cause, r["id"]],
                )
            if has_runs:
                db.execute(
                    f"update runs set state = 'interrupted', ended_at = ?, error = ? "
                    f"where id in ({_ORPHAN_RUNS})",
                    [stamp, "interrupted: the training process ended without finishing (killed?)"],
                )
    except sqlite3.OperationalError as exc:
        if "locked" not in str(exc) and "busy" not in str(exc):
            raise
        return []
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(waited)}")
    return [r["id"] for r in dead]


DEFAULT_LOCK_WAIT_SECONDS = 5.0


def _params(row: dict[str, Any]) -> dict[str, Any]:
    try:
        params = json.loads(row.get("params") or "{}")
    except ValueError:
        return {}
    return params if isinstance(params, dict) else {}


def _run_of(db: sqlite_utils.Database, job_id: str, has_runs: bool) -> str | None:
    """The training run a job drove (train jobs), for the resume hint."""
    if not has_runs:
        return None
    got = db.execute("select id from runs where job_id = ?", [job_id]).fetchone()
    return got[0] if got else None


def lock_wait_seconds() -> float:
    """How long a write waits for another writer's lock before giving up: short, so a held
    lock is reported at once with its holder (our stages commit every few items). The
    environment's GRAFTWORK_LOCK_WAIT (seconds) changes it."""
    try:
        return max(0.0, float(os.environ.get("GRAFTWORK_LOCK_WAIT", "")))
    except ValueError:
        return DEFAULT_LOCK_WAIT_SECONDS


def _running_jobs(db_path: Path) -> list[dict[str, Any]]:
    try:
        conn = sqlite3.connect(f"{db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=0.5)
        try:
            conn.row_factory = sqlite3.Row
            return [dict(r) for r in conn.execute("select * from jobs where state = 'running'")]
        finally:
            conn.close()
    except sqlite3.Error:
        return []


def _job_words(r: dict[str, Any]) -> str:
    return f"{r['kind']} job {r['id']} (pid {r['pid']} on {r['host']}, started {started_at(r)} UTC)"


def lock_holders(db_path: Path | str) -> str:
    """ "; held by ingest job 1a2b (pid 42 on host, started ...)" or "; held by pid 42
    (sqlite3 graftwork.db)", or "" when nobody is known. The writer is read from the kernel's
    lock table where there is one (Linux /proc/locks: WAL's write lock is byte 120 of the
    -shm file, a rollback journal's is on the file itself); else the running jobs whose
    process is alive are named (a reader in WAL mode can always look)."""
    path = Path(db_path)
    shm = path.with_name(path.name + "-shm")
    writers = write_lock_pids(shm, start=120) if shm.exists() else []
    writers = writers or write_lock_pids(path)
    alive = [r for r in _running_jobs(path) if not owner_gone(r)]
    said: list[str] = []
    for pid in writers[:3]:
        jobs = [r for r in alive if r.get("pid") == pid and r.get("host") == HOST]
        if jobs:
            said.extend(_job_words(r) for r in jobs[:2])
        else:
            cmd = command_line(pid)
            said.append(f"pid {pid} ({cmd})" if cmd else f"pid {pid}")
    if not said:
        said = [_job_words(r) for r in alive[:3]]
    return f"; held by {', '.join(said)}" if said else ""
