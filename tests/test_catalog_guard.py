"""The catalog guards itself: its schema version is recorded and a newer one is refused, an
empty or foreign file is refused, a full disk or a lock is one line with exit 2, and a
read-only workspace still serves read-only commands. Real SQLite files throughout."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.cli import one_line, run_main
from support.readonly import read_only
from support.widget_rows import add_widget

from graftwork.core.base.catalog import db as catalog_db
from graftwork.core.base.catalog.db import open_catalog, schema_version
from graftwork.core.base.errors import CatalogError
from graftwork.core.base.jobs import Job
from graftwork.core.base.workspace import Workspace


def fill(ws: Workspace, n: int = 6) -> None:
    with ws.catalog() as db:
        for i in range(n):
            add_widget(db, ws, f"w{i}", order=i)


def test_schema_version_is_recorded(workspace: Workspace) -> None:
    with workspace.catalog() as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == schema_version() > 0


def test_newer_catalog_is_refused_naming_its_version(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    conn = sqlite3.connect(workspace.db_path)
    conn.execute(f"PRAGMA user_version = {schema_version() + 3}")
    conn.commit()
    conn.close()
    assert run_main(workspace, "curate", "--list") == 2
    line = one_line(capsys.readouterr().err)
    assert "newer graftwork" in line and str(schema_version() + 3) in line
    conn = sqlite3.connect(workspace.db_path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == schema_version() + 3  # untouched
    conn.close()


def test_empty_or_foreign_file_is_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.db"
    empty.write_bytes(b"")
    with pytest.raises(CatalogError, match="empty"):
        open_catalog(empty)
    assert empty.stat().st_size == 0
    foreign = tmp_path / "foreign.db"
    conn = sqlite3.connect(foreign)
    conn.execute("create table photos (id integer primary key, path text)")
    conn.commit()
    conn.close()
    with pytest.raises(CatalogError, match=r"not a graftwork catalog.*photos"):
        open_catalog(foreign)
    conn = sqlite3.connect(foreign)
    assert [r[0] for r in conn.execute("select name from sqlite_master")] == ["photos"]
    conn.close()


def test_read_only_workspace_serves_read_only_commands(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(workspace, 3)
    assert run_main(workspace, "curate", "w1", "--exclude", "--note", "coffee") == 0
    capsys.readouterr()
    side = [Path(f"{workspace.db_path}{x}") for x in ("-wal", "-shm")]
    with read_only(workspace.root, workspace.db_path, *[p for p in side if p.exists()]):
        assert run_main(workspace, "curate", "--list") == 0
        assert "w1\texclude\tcoffee" in capsys.readouterr().out
        assert run_main(workspace, "runs") == 0
        capsys.readouterr()
        assert run_main(workspace, "curate", "w2", "--include") == 2
        line = one_line(capsys.readouterr().err)
        assert "read-only" in line


def cap_catalog(monkeypatch: pytest.MonkeyPatch) -> None:
    """The catalog cannot grow: SQLite's max_page_count makes every write that needs a new
    page fail with the real "database or disk is full" (no way to fill a real disk here)."""
    real = catalog_db.open_catalog

    def capped(*args, **kwargs):
        db = real(*args, **kwargs)
        pages = db.execute("PRAGMA page_count").fetchone()[0]
        db.execute(f"PRAGMA max_page_count = {pages}")
        return db

    monkeypatch.setattr(catalog_db, "open_catalog", capped)


@pytest.mark.parametrize(
    "args",
    [
        ("curate", "w1", "--include", "--note", "x" * 20000),
        ("prompts", "set", "w1", "--text", "y" * 20000),
        ("ingest", "--manifest", "MANIFEST"),
        ("budget",),
        ("build", "--set", "v1"),
    ],
)
def test_disk_full_is_one_line_exit_2(
    workspace: Workspace, tmp_path: Path, capsys, monkeypatch, args: tuple[str, ...]
) -> None:
    fill(workspace, 60)  # enough rows that every stage's writes need new pages
    cap_catalog(monkeypatch)
    manifest = tmp_path / "m.json"
    entry = {"id": "new", "downloadUrl": "new.zip", "description": "d" * 20000}
    manifest.write_text(json.dumps({"widgets": [entry]}), encoding="utf-8")
    args = tuple(str(manifest) if a == "MANIFEST" else a for a in args)
    code = run_main(workspace, *args)
    err = capsys.readouterr().err
    assert code == 2, err
    assert "disk is full" in one_line(err)


def test_locked_catalog_names_the_holder(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(workspace, 1)
    monkeypatch.setenv("GRAFTWORK_LOCK_WAIT", "0.2")  # not 5 s in a test
    db = workspace.catalog()
    job = Job(db, "ingest", {"manifest": "m.json"})  # this process: alive
    db.conn.execute("BEGIN IMMEDIATE")  # hold the write lock like a long stage does
    try:
        assert run_main(workspace, "curate", "w0", "--include") == 2
        line = one_line(capsys.readouterr().err)
        assert "locked" in line and f"ingest job {job.id}" in line
    finally:
        db.conn.execute("ROLLBACK")
        db.close()


def test_a_lock_held_by_another_process_is_reported_quickly_naming_it(
    workspace: Workspace, tmp_path: Path
) -> None:
    """A real process (not a graftwork job) holds the write lock: a writing command gives up
    after the short wait with one line naming that process; a reading command is not held."""
    fill(workspace, 1)
    script = tmp_path / "hold_the_catalog.py"
    script.write_text(
        "import sqlite3, sys, time\n"
        f"c = sqlite3.connect({str(workspace.db_path)!r})\n"
        "c.execute('BEGIN IMMEDIATE')\n"
        "c.execute('create table if not exists held (x)')\n"
        "print('held', flush=True)\n"
        "time.sleep(600)\n",  # killed below; never lets go while the test runs
        encoding="utf-8",
    )
    holder = subprocess.Popen(
        [sys.executable, script.name], cwd=tmp_path, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        gw = [sys.executable, "-m", "graftwork", "-w", str(workspace.root)]
        env = {**os.environ, "GRAFTWORK_LOCK_WAIT": "1"}
        started = time.monotonic()
        done = subprocess.run(
            [*gw, "curate", "w0", "--include"], capture_output=True, text=True, env=env
        )
        took = time.monotonic() - started
        assert done.returncode == 2, done.stderr
        line = one_line(done.stderr)
        assert "locked" in line and "gave up after 1 s" in line
        if sys.platform == "linux":  # the kernel's lock table names the writer
            assert f"pid {holder.pid} (" in line and "hold_the_catalog.py" in line, line
        # It gave up (after the 1 s the message names) instead of waiting for the holder,
        # which keeps the lock for 600 s: a bound for a loaded machine's start-up, not a timing.
        assert took < 120, took
        listing = subprocess.run([*gw, "curate", "--list"], capture_output=True, text=True)
        assert listing.returncode == 0, listing.stderr  # readers never wait for a writer
    finally:
        holder.kill()
        holder.wait(timeout=10)
        holder.stdout.close()


def test_the_default_lock_wait_is_short(monkeypatch: pytest.MonkeyPatch) -> None:
    from graftwork.core.base.catalog.liveness import lock_wait_seconds

    monkeypatch.delenv("GRAFTWORK_LOCK_WAIT", raising=False)
    assert lock_wait_seconds() <= 5
    monkeypatch.setenv("GRAFTWORK_LOCK_WAIT", "0.5")
    assert lock_wait_seconds() == 0.5
    monkeypatch.setenv("GRAFTWORK_LOCK_WAIT", "soon")  # not a number: the default
    assert lock_wait_seconds() <= 5
