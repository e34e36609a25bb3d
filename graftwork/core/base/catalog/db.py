"""Open the catalog: WAL, busy timeout, migrations. One connection per thread."""

from __future__ import annotations

import contextlib
import importlib
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import sqlite_utils

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
]


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def open_catalog(
    path: Path | str, *, migrate: bool = True, timeout: float = 10.0
) -> sqlite_utils.Database:
    """Open (creating if needed) the catalog at ``path`` and bring its schema up to date."""
    path = Path(path)
    try:
        conn = sqlite3.connect(str(path), timeout=timeout)
        conn.execute(f"PRAGMA busy_timeout = {int(timeout * 1000)}")
        conn.execute("PRAGMA schema_version").fetchone()  # fails fast on a corrupt file
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise CatalogError(f"{path}: could not switch the catalog to WAL mode (got {mode})")
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")
        db = sqlite_utils.Database(conn)
        if migrate:
            for module in MIGRATION_SETS:
                importlib.import_module(module).migrations.apply(db)
        return db
    except CatalogError:
        raise
    except sqlite3.OperationalError as exc:
        if "locked" in str(exc) or "busy" in str(exc):
            raise CatalogError(
                f"{path}: the catalog is locked by another process ({exc}); try again"
            ) from None
        raise CatalogError(f"{path}: cannot open the catalog: {exc}") from None
    except sqlite3.DatabaseError as exc:
        raise CatalogError(f"{path}: the catalog is corrupt or not a SQLite file ({exc})") from None


@contextlib.contextmanager
def write_txn(db: sqlite_utils.Database) -> Iterator[None]:
    """BEGIN IMMEDIATE so two writers (TUI and CLI) cannot interleave (e.g. take the same next
    prompt rev); joins a transaction the caller already holds."""
    conn = db.conn
    if conn.in_transaction:  # the caller already holds a transaction: join it
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def require_item(db: sqlite_utils.Database, item_id: str) -> None:
    if not list(db.query("SELECT 1 FROM items WHERE id = ?", [item_id])):
        raise UnknownItemError(item_id)
