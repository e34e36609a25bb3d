"""Widget categories (`graftwork teach categories`): the project's list, reading a teacher's
reply against it, and the `item_categories` table (AI_category in the report, the TUI's
`category:` filter, `build --stratify category`)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from graftwork.core.base.catalog.db import now

NONE = ""  # an item without a category (not asked yet, or the teacher failed)
_WRAPPERS = "\"'`*_.!:;[](){}<> \t\r\n"


def match_category(reply: str, categories: Sequence[str]) -> str | None:
    """The listed category a reply names, or None. Lenient about what models wrap one word in
    (quotes, Markdown, a trailing period, "Category:"), strict about the word: it must be one
    of the list (any case), never a guess at the closest one."""
    text = reply.strip()
    if "\n" in text:  # a one-word answer, possibly after an empty line; not an essay
        lines = [ln for ln in text.splitlines() if ln.strip()]
        if len(lines) != 1:
            return None
        text = lines[0]
    text = re.sub(r"^\s*category\s*:\s*", "", text, flags=re.IGNORECASE).strip(_WRAPPERS)
    key = " ".join(text.split()).casefold()
    for name in categories:
        if " ".join(name.split()).casefold() == key:
            return name
    return None


def item_categories(db: Any) -> dict[str, str]:
    """item id -> category, for items the teacher categorized (failed ones are left out)."""
    if not db["item_categories"].exists():
        return {}
    rows = db.execute("SELECT item_id, category FROM item_categories WHERE state = 'ok'")
    return {item_id: category for item_id, category in rows}


def category_rows(db: Any) -> dict[str, dict[str, Any]]:
    """Every row (ok and failed), by item id."""
    if not db["item_categories"].exists():
        return {}
    return {r["item_id"]: r for r in db.query("SELECT * FROM item_categories")}


def record(
    db: Any,
    item_id: str,
    *,
    category: str | None,
    reason: str | None = None,
    model: str | None = None,
    call_id: int | None = None,
    run_id: str | None = None,
) -> None:
    """Store the newest outcome for ``item_id``: a category (state ok) or, with category None,
    a failure with its reason (the item's earlier category, if any, is replaced: the newest
    answer is what the report shows)."""
    row = {
        "item_id": item_id,
        "category": category,
        "state": "ok" if category is not None else "failed",
        "reason": reason,
        "model": model,
        "call_id": call_id,
        "run_id": run_id,
        "updated_at": now(),
    }
    with db.conn:
        db.conn.execute(
            "INSERT OR REPLACE INTO item_categories (item_id, category, state, reason, model, "
            "call_id, run_id, updated_at) VALUES (:item_id, :category, :state, :reason, :model, "
            ":call_id, :run_id, :updated_at)",
            row,
        )
