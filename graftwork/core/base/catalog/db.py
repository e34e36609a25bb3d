"""Open the catalog: WAL, busy timeout, migrations. One connection per thread."""

from __future__ import annotations

import importlib
import sqlite3
from pathlib import Path

import sqlite_utils

from graftwork.core.base.catalog.liveness import lock_holders, lock_wait_seconds, reap_interrupted
from graftwork.core.base.catalog.txn import now, write_txn  # noqa: F401 (re-exported)
from graftwork.core.base.errors import CatalogError, UnknownItemError

# Each area owns an append-only migration set (sqlite_utils Migrations) in its own module,
# so areas never edit each other's migrations. Applied in this order.
MIGRATION_SETS = [
    "graftwork.core.base.catalog.migrations",
    "graftwork.core.teach.migrations",
    "graftwork.core.train.migrations",
    "graftwork.core.review.migrations",
    "graftwork.core.plan.migrations",
    "graftwork.core.sources.migrations",
    "graftwork.core.sources.readmes.migrations",
    "graftwork.core.eval.migrations",
]


def schema_version() -> int:
    """The schema this graftwork writes: the number of migrations it knows (sets are
    append-only, so the count only grows). Stored in the catalog's PRAGMA user_version."""
    return sum(
        len(importlib.import_module(m).migrations._migrations)  # sqlite-utils keeps them here
        for m in MIGRATION_SETS
    )


def open_catalog(
    path: Path | str, *, migrate: bool = True, timeout: float | None = None
) -> sqlite_utils.Database:
    """Open (creating if needed) the catalog at ``path`` and bring its schema up to date.

    Refused with a CatalogError (one line): an empty or foreign file, a catalog written by a
    newer graftwork, a corrupt file, a lock held past the timeout. A catalog this process
    cannot write (read-only workspace) is opened read-only: reads work, writes fail with
    "attempt to write a readonly database"."""
    path = Path(path)
    # Seconds a connection waits for another writer before "locked": our stages commit often,
    # so a longer wait means something holds the lock on purpose (and is named then).
    timeout = lock_wait_seconds() if timeout is None else timeout
    try:
        if path.is_file() and path.stat().st_size == 0:
            raise CatalogError(
                f"{path}: the catalog file is empty (0 bytes), not a graftwork catalog; "
                "move it aside to start a new one, or restore it from a backup"
            )
        try:
            conn = _connect(path, timeout)
            read_only = False
        except sqlite3.OperationalError as exc:
            if not path.is_file() or not _cannot_write(exc):
                raise
            conn = _connect_read_only(path)
            read_only = True
        db = sqlite_utils.Database(conn)
        try:
            _check_schema(db, path, read_only=read_only)
            if migrate and not read_only:
                for module in MIGRATION_SETS:
                    importlib.import_module(module).migrations.apply(db)
                if conn.execute("PRAGMA user_version").fetchone()[0] != schema_version():
                    conn.execute(f"PRAGMA user_version = {schema_version()}")
                    conn.commit()
            if not read_only:
                reap_interrupted(db)
        except BaseException:
            conn.close()  # refused or failed: nobody gets this connection to close
            raise
        return db
    except CatalogError:
        raise
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise CatalogError(
                f"{path}: the catalog is locked by another process{lock_holders(path)} "
                f"(gave up after {timeout:g} s); wait for it to finish and run again"
            ) from None
        raise CatalogError(f"{path}: cannot open the catalog: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise CatalogError(f"{path}: the catalog is corrupt or not a SQLite file ({exc})") from None


def _connect(path: Path, timeout: float) -> sqlite3.Connection:
    conn = sqlite3.connect(str(path), timeout=timeout)
    try:
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA schema_version").fetchone()  # fails fast on a corrupt file
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise CatalogError(f"{path}: could not switch the catalog to WAL mode (got {mode})")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
    except BaseException:
        conn.close()
        raise
    return conn


def _cannot_write(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "readonly" in text or "unable to open" in text


def _connect_read_only(path: Path) -> sqlite3.Connection:
    """A read-only workspace: WAL needs its -shm file, which cannot be created there, so the
    file is opened immutable (SQLite then reads it without any locking or side files)."""
    uri = f"{path.resolve().as_uri()}?mode=ro&immutable=1"
    conn = sqlite3.connect(uri, uri=True)
    try:
        conn.execute("PRAGMA schema_version").fetchone()  # fails fast on a corrupt file
    except BaseException:
        conn.close()
        raise
    return conn


def _check_schema(db: sqlite_utils.Database, path: Path, *, read_only: bool) -> None:
    """Refuse a catalog from a newer graftwork, or a SQLite file that is not a catalog."""
    found = db.execute("PRAGMA user_version").fetchone()[0]
    known = schema_version()
    if found > known:
        raise CatalogError(
            f"{path}: this catalog was written by a newer graftwork (schema {found}; this "
            f"graftwork knows up to {known}); upgrade graftwork to use it"
        )
    tables = [t for t in db.table_names() if not t.startswith("sqlite_")]
    if tables and "_sqlite_migrations" not in tables:
        shown = ", ".join(sorted(tables)[:5])
        raise CatalogError(f"{path}: not a graftwork catalog (it holds tables: {shown})")
    if read_only and found < known:
        pending = [
            m.name
            for module in MIGRATION_SETS
            for m in importlib.import_module(module).migrations.pending(db)
        ]
        if pending:  # (a catalog from before user_version was kept has all of them applied)
            raise CatalogError(
                f"{path}: the catalog is read-only and needs {len(pending)} schema upgrade(s) "
                f"({pending[0]}, ...); open it once where it can be written"
            )


def require_item(db: sqlite_utils.Database, item_id: str) -> None:
    if not list(db.query("SELECT 1 FROM items WHERE id = ?", [item_id])):
        raise UnknownItemError(item_id)
