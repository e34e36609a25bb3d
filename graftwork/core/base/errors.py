"""Error types the CLI maps to exit codes and the TUI to clear messages."""

from __future__ import annotations


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
