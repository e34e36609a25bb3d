"""The catalog's smallest shared pieces: timestamps and write transactions (no imports of
other graftwork modules, so everything that touches the catalog can use them)."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import UTC, datetime

import sqlite_utils


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


@contextlib.contextmanager
def write_txn(db: sqlite_utils.Database) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT: a read and the writes that depend on it with no other
    writer in between (two writers cannot both take the same next rev or start the same
    exclusive job). Inside a caller's transaction it joins that one."""
    conn = db.conn
    if conn.in_transaction:
        yield
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
    except BaseException:
        if conn.in_transaction:  # SQLite already rolled back after "disk is full"
            conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")
