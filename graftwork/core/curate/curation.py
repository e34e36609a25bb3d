"""Curation decisions (the report's CT_* columns): include, exclude or needs work.

`curation` holds the current decision per item; `curation_history` keeps every change
(including clears) so a decision can always be traced.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from graftwork.core.base.catalog.db import now, require_item, write_txn
from graftwork.core.base.errors import GraftworkError

DECISIONS = ("include", "exclude", "needs_work")
CLEARED = "cleared"  # the history entry written when a decision is removed


def _normalize(decision: str) -> str:
    d = decision.strip().lower().replace("-", "_").replace(" ", "_")
    if d not in DECISIONS:
        raise GraftworkError(
            f"unknown decision {decision!r}; expected one of {', '.join(DECISIONS)}"
        )
    return d


def _history(
    db: sqlite_utils.Database, item_id: str, decision: str, note: str | None, ts: str
) -> None:
    db.execute(
        "INSERT INTO curation_history (item_id, decision, note, created_at) VALUES (?, ?, ?, ?)",
        [item_id, decision, note, ts],
    )


def set_decision(
    db: sqlite_utils.Database, item_id: str, decision: str, note: str | None = None
) -> dict[str, Any]:
    """Record ``decision`` for ``item_id`` (upsert) and append it to the history.

    ``note=None`` keeps the item's current note (changing only the decision must not lose
    what the curator wrote); ``note=""`` clears it."""
    decision = _normalize(decision)
    require_item(db, item_id)
    ts = now()
    with write_txn(db):  # decision and history change together or not at all
        if note is None:
            note = (get_decision(db, item_id) or {}).get("note")
        row = {"item_id": item_id, "decision": decision, "note": note or None, "updated_at": ts}
        db.execute(
            "INSERT INTO curation (item_id, decision, note, updated_at) VALUES (:item_id, :decision, :note, :updated_at) "
            "ON CONFLICT(item_id) DO UPDATE SET decision = excluded.decision, note = excluded.note, "
            "updated_at = excluded.updated_at",
            row,
        )
        _history(db, item_id, decision, row["note"], ts)
    return row


def clear_decision(db: sqlite_utils.Database, item_id: str, note: str | None = None) -> bool:
    """Remove the decision (history keeps a `cleared` entry). False when there was none."""
    require_item(db, item_id)
    if get_decision(db, item_id) is None:
        return False
    with write_txn(db):
        db.execute("DELETE FROM curation WHERE item_id = ?", [item_id])
        _history(db, item_id, CLEARED, note, now())
    return True


def get_decision(db: sqlite_utils.Database, item_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM curation WHERE item_id = ?", [item_id]))
    return rows[0] if rows else None


def all_decisions(db: sqlite_utils.Database) -> dict[str, dict[str, Any]]:
    """{item_id: decision row} for every item with a decision."""
    return {r["item_id"]: r for r in db.query("SELECT * FROM curation ORDER BY item_id")}


def decision_history(db: sqlite_utils.Database, item_id: str) -> list[dict[str, Any]]:
    """Every decision ever recorded for ``item_id``, oldest first."""
    return list(db.query("SELECT * FROM curation_history WHERE item_id = ? ORDER BY id", [item_id]))
