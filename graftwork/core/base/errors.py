"""Error types the CLI maps to exit codes and the TUI to clear messages."""

from __future__ import annotations

import errno
from typing import Any, NamedTuple


class GraftworkError(Exception):
    """Base class: a problem we can explain to the user in one line."""

    exit_code = 1


class ConfigError(GraftworkError):
    """A configuration file or flag is wrong (exit code 2)."""

    exit_code = 2


class WorkspaceError(GraftworkError):
    """No workspace found, or the workspace is not usable (exit code 2)."""

    exit_code = 2


class CatalogError(GraftworkError):
    """The SQLite catalog is locked, corrupt or from a newer graftwork."""

    exit_code = 2


class ItemError(GraftworkError):
    """One item (widget) failed; the run goes on with the others."""

    def __init__(self, item_id: str, cause: str) -> None:
        super().__init__(f"{item_id}: {cause}")
        self.item_id = item_id
        self.cause = cause


class UnknownItemError(ItemError):
    """An id that is not in the catalog: a usage error (exit code 2)."""

    exit_code = 2

    def __init__(self, item_id: str) -> None:
        super().__init__(
            item_id, "unknown item id (not in the catalog; run `graftwork ingest` first?)"
        )


def os_error_line(exc: OSError) -> str:
    """One line for an OSError: the system's words and the file it names."""
    what = exc.strerror or str(exc) or type(exc).__name__
    names = [str(n) for n in (exc.filename, exc.filename2) if n]
    where = f" ({' -> '.join(names)})" if names else ""  # a rename names both ends
    return f"{what}{where}"


class Explained(NamedTuple):
    line: str
    exit_code: int
    known: bool = True  # False: a bug or a case nobody foresaw (worth a --debug traceback)


def explain(exc: BaseException, catalog: Any = None) -> Explained:
    """One line and an exit code for an exception nobody handled closer to its cause: the
    last line of defence of the CLI and the TUI. Environment problems (disk full, locked or
    read-only catalog, permissions) exit 2; anything else is a failure of the work (1).
    ``catalog`` (the workspace's catalog path, when known) lets a lock error say who holds it."""
    import sqlite3  # stdlib, but only needed on this path

    if isinstance(exc, GraftworkError):
        return Explained(str(exc), exc.exit_code)
    if isinstance(exc, sqlite3.Error):
        line = catalog_error_line(exc)
        low = str(exc).lower()
        if "locked" in low or "busy" in low:
            from graftwork.core.base.catalog.liveness import lock_holders, lock_wait_seconds

            holders = lock_holders(catalog) if catalog is not None else ""
            line = (
                f"the catalog is locked by another process{holders} (gave up after "
                f"{lock_wait_seconds():g} s); wait for it to finish and run again"
            )
        return Explained(line, 2)
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return Explained(
                f"the disk is full: {os_error_line(exc)}; free some space and run again", 2
            )
        return Explained(f"file system error: {os_error_line(exc)}", 2)
    if isinstance(exc, UnicodeDecodeError):
        return Explained(f"not UTF-8 text: {exc.reason} at byte {exc.start}", 2)
    if isinstance(exc, RecursionError):
        return Explained("the input is nested too deeply to read", 1)
    if isinstance(exc, MemoryError):
        return Explained("out of memory", 2)
    return Explained(f"unexpected {type(exc).__name__}: {exc}", 1, known=False)


def catalog_error_line(exc: BaseException) -> str:
    """SQLite's terse messages, said with what they mean for the user."""
    text = str(exc)
    low = text.lower()
    if "disk is full" in low:
        return f"the disk is full: cannot write the catalog ({text}); free some space and run again"
    if "locked" in low or "busy" in low:
        return f"the catalog is locked by another process ({text}); wait for it to finish and run again"
    if "readonly" in low or "read-only" in low:
        return f"the catalog is read-only ({text}); this command needs to write it"
    if "unable to open" in low:
        return f"cannot open the catalog ({text})"
    return f"catalog error: {text}"
