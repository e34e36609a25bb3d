from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlite_utils

from graftwork.core.base.atomic import atomic_writer, write_json
from graftwork.core.base.catalog.db import open_catalog
from graftwork.core.base.errors import CatalogError, WorkspaceError
from graftwork.core.base.jobs import Cancelled, Job, StageResult, run_job
from graftwork.core.base.workspace import Workspace, resolve_workspace


def test_init_creates_layout_and_keeps_existing_config(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "w")
    for name in ("downloads", "prompts", "datasets", "runs"):
        assert (ws.root / name).is_dir()
    ws.config_path.write_text("project: {seed: 7}\n", encoding="utf-8")
    Workspace.init(ws.root)
    assert "seed: 7" in ws.config_path.read_text(encoding="utf-8")


def test_resolution_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    a = Workspace.init(tmp_path / "a")
    b = Workspace.init(tmp_path / "b")
    nested = a.root / "downloads" / "x"
    nested.mkdir()
    assert resolve_workspace(None, cwd=nested).root == a.root
    monkeypatch.setenv("GRAFTWORK_WORKSPACE", str(b.root))
    assert resolve_workspace(None, cwd=nested).root == b.root
    assert resolve_workspace(str(a.root)).root == a.root
    monkeypatch.delenv("GRAFTWORK_WORKSPACE")
    with pytest.raises(WorkspaceError, match="graftwork init"):
        resolve_workspace(None, cwd=tmp_path)


def test_catalog_is_wal_and_migrations_are_idempotent(workspace: Workspace) -> None:
    db = workspace.catalog()
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    tables = set(db.table_names())
    assert {"items", "downloads", "analysis", "prompt_revisions", "curation", "jobs"} <= tables
    applied = db.execute("select count(*) from _sqlite_migrations").fetchone()[0]
    db.close()
    with workspace.catalog() as db:
        assert db.execute("select count(*) from _sqlite_migrations").fetchone()[0] == applied


def test_catalog_connection_closes_when_the_with_block_ends(workspace: Workspace) -> None:
    with workspace.catalog() as db:
        db.execute("CREATE TABLE scratch (x)")
        conn = db.conn
    with pytest.raises(sqlite3.ProgrammingError):  # closed, even though nothing called close()
        conn.execute("SELECT 1")
    with pytest.raises(RuntimeError), workspace.catalog() as db:
        conn = db.conn
        raise RuntimeError("boom")
    with pytest.raises(sqlite3.ProgrammingError):  # and closed when the block raised
        conn.execute("SELECT 1")


def test_corrupt_catalog_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "graftwork.db"
    bad.write_bytes(b"this is not a database at all" * 100)
    with pytest.raises(CatalogError, match="corrupt or not a SQLite file"):
        open_catalog(bad)


def test_locked_catalog_is_a_clear_error(workspace: Workspace) -> None:
    holder = sqlite3.connect(str(workspace.db_path), isolation_level=None)
    holder.execute("PRAGMA journal_mode=DELETE")  # a rollback-journal exclusive lock blocks readers
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(CatalogError, match="locked"):
            open_catalog(workspace.db_path, timeout=0.2)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_atomic_writer_leaves_old_file_on_failure(tmp_path: Path) -> None:
    target = tmp_path / "out.json"
    write_json(target, {"v": 1})
    with pytest.raises(RuntimeError), atomic_writer(target) as fh:
        fh.write('{"v": 2, "half": ')
        raise RuntimeError("crash mid-write")
    assert target.read_text(encoding="utf-8").strip() == '{\n  "v": 1\n}'
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.fixture
def db(workspace: Workspace) -> Iterator[sqlite_utils.Database]:
    """The workspace's catalog, closed after the test (3.13 warns about a connection left open)."""
    with workspace.catalog() as conn:
        yield conn


def test_job_records_progress_logs_and_failures(db: sqlite_utils.Database) -> None:
    events = []

    def work(job: Job) -> StageResult:
        job.set_total(3)
        job.advance(item_id="a")
        job.item_failed("b", "HTTP 404 Not Found")
        job.advance(item_id="b")
        job.advance(item_id="c")
        return StageResult(ok=2, failed=[("b", "HTTP 404 Not Found")])

    result = run_job(db, "ingest", work, listeners=[events.append])
    assert result.exit_code == 1
    row = db["jobs"].get(events[0].job_id)
    assert (row["state"], row["done"], row["failed"], row["total"]) == ("partial", 3, 1, 3)
    logs = list(db["job_logs"].rows_where("job_id = ?", [row["id"]]))
    assert logs[0]["level"] == "error" and logs[0]["item_id"] == "b" and "404" in logs[0]["message"]
    assert events[0].type == "started" and events[-1].type == "finished"


def test_job_cancel_from_another_thread(db: sqlite_utils.Database) -> None:
    cancel = threading.Event()

    def work(job: Job) -> StageResult:
        for _ in range(1000):
            job.check_cancelled()
            cancel.set()
        return StageResult()

    with pytest.raises(Cancelled):
        run_job(db, "budget", work, cancel_event=cancel)
    assert db.execute("select state from jobs").fetchone()[0] == "cancelled"


def test_the_exception_that_ends_a_job_is_logged_once_and_marked_fatal(
    db: sqlite_utils.Database,
) -> None:
    events = []

    def work(job: Job) -> StageResult:
        job.log("a warning the console shows", level="warning")
        raise ValueError("manifest is not valid JSON")

    with pytest.raises(ValueError):
        run_job(db, "ingest", work, listeners=[events.append])
    logs = [e for e in events if e.type == "log"]
    assert [(e.level, e.fatal) for e in logs] == [("warning", False), ("error", True)]
    stored = [r["message"] for r in db["job_logs"].rows]
    assert stored[-1] == "ValueError: manifest is not valid JSON"  # kept for the Runs pane
