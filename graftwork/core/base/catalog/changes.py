"""A cheap probe for "did anyone write to the catalog?" (CLI, teacher, another window).

SQLite's ``PRAGMA data_version`` changes on a connection whenever *another* connection has
committed to the file since the last call, and reading it touches no table. The probe keeps
one read-only connection of its own that never writes, so every commit counts, the app's own
workers included. One probe per thread, like every catalog connection.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


class ChangeProbe:
    """``changed()`` is True once after each commit by any other connection."""

    def __init__(self, db_path: Path | str) -> None:
        self._conn = sqlite3.connect(str(db_path), timeout=5.0)
        self._last = self._version()

    def _version(self) -> int:
        return int(self._conn.execute("PRAGMA data_version").fetchone()[0])

    def changed(self) -> bool:
        """A locked or vanished file reads as "changed": the caller reloads and finds out."""
        try:
            version = self._version()
        except sqlite3.Error:
            return True
        if version == self._last:
            return False
        self._last = version
        return True

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> ChangeProbe:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
