"""The current prompt of an item is its newest revision (the highest rev). This module is the
one place that says so in SQL; every reader (build, budget, teach, the CSV report, the TUI, the
CLI) asks here, so the rule cannot drift."""

from __future__ import annotations

import json
from typing import Any

# Each item's newest rev, read off the unique (item_id, rev) index in one pass; joining it back
# reads only the current rows. Re-budget reads every prompt this way and must stay well under
# 0.2 s for 2,000 widgets, so the hot path (current_prompts) is one bare query over tuples.
_NEWEST_REV = "SELECT item_id, MAX(rev) AS rev FROM prompt_revisions GROUP BY item_id"


def current_sql(columns: str = "p.*") -> str:
    """SELECT ``columns`` (of ``prompt_revisions p``) from every item's current revision."""
    return (
        f"SELECT {columns} FROM prompt_revisions p JOIN ({_NEWEST_REV}) m "
        "ON m.item_id = p.item_id AND m.rev = p.rev"
    )


def current_of_sql(columns: str = "*") -> str:
    """SELECT ``columns`` from one item's current revision; the item id is the one parameter."""
    return f"SELECT {columns} FROM prompt_revisions WHERE item_id = ? ORDER BY rev DESC LIMIT 1"


def current_state_expr(item_column: str) -> str:
    """A scalar subquery: the state of the current revision of the item in ``item_column``
    (for a row-per-item query; it reads one index entry per row)."""
    return (
        "(SELECT state FROM prompt_revisions pr "
        f"WHERE pr.item_id = {item_column} ORDER BY pr.rev DESC LIMIT 1)"
    )


def current_expr(column: str, item_column: str) -> str:
    """A scalar subquery: ``column`` (an expression over ``pr``, e.g. ``substr(pr.text, 1,
    80)``) of the current revision of the item in ``item_column``."""
    return (
        f"(SELECT {column} FROM prompt_revisions pr "
        f"WHERE pr.item_id = {item_column} ORDER BY pr.rev DESC LIMIT 1)"
    )


def current_prompts(db: Any) -> dict[str, tuple[str, str]]:
    """item id -> (text, state) of every current revision: the fast path (bare tuples)."""
    sql = current_sql("p.item_id, p.text, p.state")
    return {r[0]: (r[1] or "", r[2] or "") for r in db.execute(sql).fetchall()}


def current_states(db: Any) -> dict[str, str]:
    """item id -> state of every current revision."""
    sql = current_sql("p.item_id, p.state")
    return {r[0]: r[1] or "" for r in db.execute(sql).fetchall()}


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    """A revision row with its provenance JSON decoded to a dict."""
    row = dict(row)
    prov = row.get("provenance")
    try:
        row["provenance"] = json.loads(prov) if prov else {}
    except ValueError:
        row["provenance"] = {"raw": prov}
    return row


def current(db: Any, item_id: str) -> dict[str, Any] | None:
    """The newest revision of ``item_id`` (provenance decoded to a dict), or None."""
    rows = list(db.query(current_of_sql(), [item_id]))
    return _decode(rows[0]) if rows else None


def current_all(db: Any) -> dict[str, dict[str, Any]]:
    """Every item's current revision in one query: {item_id: revision}."""
    rows = db.query(current_sql())
    return {r["item_id"]: _decode(r) for r in rows}
