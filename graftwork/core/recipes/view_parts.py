"""Pieces every RecipeView (recipes/views.py) needs: curation actions and quick filters (the
same decisions the widgets pane and `graftwork curate` make, through core/edits.py), the
budget and curation columns, one-line previews and an example's turns as detail sections.
UI-free, like the views themselves."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable
from typing import Any

from graftwork.core.dataset.examples import Example
from graftwork.core.recipes.views import ItemAction, QuickFilter, Section

PREVIEW_CHARS = 100  # a preview is one table cell (and what `/` searches): its start is enough
MAX_SECTION_CHARS = 40_000  # the detail shows the start of a huge turn, and says so
_SQL_CHUNK = 500  # SQLite's bound parameters per query, well under every build's limit


def preview(text: Any, limit: int = PREVIEW_CHARS) -> str:
    """The start of ``text`` on one line (newlines and tabs become spaces)."""
    if text is None:
        return ""
    head = str(text)[: limit * 2]
    return " ".join(head.split())[:limit]


def sql_preview(expr: str, limit: int = PREVIEW_CHARS) -> str:
    """SQL for the start of ``expr`` on one line: the same as ``preview`` but in SQLite's C
    code, so 100,000 rows cost no Python string work (runs of spaces are kept)."""
    out = f"substr({expr}, 1, {limit})"
    for char in (10, 13, 9):
        out = f"replace({out}, char({char}), ' ')"
    return f"trim({out})"


def cut(text: str, limit: int = MAX_SECTION_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]}\n\n… ({len(text) - limit:,} more characters not shown)"


def chunks(ids: list[str], size: int = _SQL_CHUNK) -> Iterable[tuple[list[str], str]]:
    """``ids`` in slices, each with its ``?,?,…`` placeholder list for an ``IN (…)``."""
    for start in range(0, len(ids), size):
        part = ids[start : start + size]
        yield part, ",".join("?" * len(part))


# -- budget and curation (source-neutral tables) ---------------------------------------------
def budget_curation(db: Any, ids: list[str] | None = None) -> dict[str, tuple[Any, ...]]:
    """item id -> (total_tokens, over_by, budget action, curation decision) for the items
    that have either; every item when ``ids`` is None."""
    sql = (
        "SELECT x.id, b.total_tokens, b.over_by, b.action, c.decision FROM ({ids}) x "
        "LEFT JOIN budget b ON b.item_id = x.id LEFT JOIN curation c ON c.item_id = x.id "
        "WHERE b.item_id IS NOT NULL OR c.item_id IS NOT NULL"
    )
    out: dict[str, tuple[Any, ...]] = {}
    if ids is None:
        src = "SELECT item_id AS id FROM budget UNION SELECT item_id FROM curation"
        for r in db.execute(sql.format(ids=src)).fetchall():
            out[r[0]] = r[1:]
        return out
    for part, marks in chunks(ids):
        src = f"SELECT id FROM items WHERE id IN ({marks})"
        for r in db.execute(sql.format(ids=src), part).fetchall():
            out[r[0]] = r[1:]
    return out


def budget_fields(values: tuple[Any, ...] | None) -> dict[str, Any]:
    """The row keys ``tokens``, ``over_by``, ``budget``, ``decision`` from budget_curation."""
    tokens, over_by, action, decision = values or (None, 0, None, None)
    return {
        "tokens": tokens,
        "over_by": over_by or 0,
        "budget": action or "",
        "decision": decision or "",
    }


# -- curation actions and filters --------------------------------------------------------------
def _decide(decision: str) -> Callable[[Any, str], str]:
    def run(ws: Any, item_id: str) -> str:
        from graftwork.core import edits

        with ws.catalog() as db:
            if decision == "clear":
                had = edits.clear_decision(ws, db, item_id, "cleared in the workstation")
                return f"{item_id}: decision cleared" if had else f"{item_id}: had no decision"
            edits.decide(ws, db, item_id, decision)
        return f"{item_id}: {decision.replace('_', ' ')}"

    return run


def curation_actions(prefix: str) -> tuple[ItemAction, ...]:
    """include / exclude / needs work / clear, keys i x w u, binding ids ``prefix.include``…"""
    return (
        ItemAction(f"{prefix}.include", "i", "Include", _decide("include")),
        ItemAction(f"{prefix}.exclude", "x", "Exclude", _decide("exclude")),
        ItemAction(f"{prefix}.needs_work", "w", "Needs work", _decide("needs_work")),
        ItemAction(f"{prefix}.clear_decision", "u", "Clear decision", _decide("clear")),
    )


CURATION_FILTERS: tuple[QuickFilter, ...] = (
    QuickFilter("not counted", lambda r: r.get("tokens") is None),
    # what build leaves out: over the limit, or a curation exclude or needs-work
    QuickFilter(
        "over budget", lambda r: (r.get("over_by") or 0) > 0 or r.get("budget") == "exclude"
    ),
    QuickFilter(
        "excluded",
        lambda r: r.get("decision") in ("exclude", "needs_work") or r.get("budget") == "exclude",
    ),
    QuickFilter("needs work", lambda r: r.get("decision") == "needs_work"),
    QuickFilter("included", lambda r: r.get("decision") == "include"),
)


def curation_counts(db: Any, source: str) -> str:
    """One dashboard line: budget and curation counts of a source's items."""
    counted, over = db.execute(
        "SELECT COUNT(b.item_id), SUM(CASE WHEN b.action = 'exclude' THEN 1 ELSE 0 END) "
        "FROM items i JOIN budget b ON b.item_id = i.id WHERE i.source = ?",
        [source],
    ).fetchone()
    decisions = dict(
        db.execute(
            "SELECT c.decision, COUNT(*) FROM items i JOIN curation c ON c.item_id = i.id "
            "WHERE i.source = ? GROUP BY c.decision",
            [source],
        ).fetchall()
    )
    decided = ", ".join(f"{n} {d.replace('_', ' ')}" for d, n in sorted(decisions.items()))
    return f"{counted or 0} counted, {over or 0} over the limit; curation: {decided or 'none yet'}"


def sets_and_runs(ws: Any, db: Any) -> list[tuple[str, str]]:
    """Dashboard lines: the built sets (with their example counts) and the training runs."""
    sets = []
    for row in db.execute("SELECT name, counts FROM datasets ORDER BY created_at").fetchall():
        try:
            counts = json.loads(row[1] or "{}")
        except ValueError:
            counts = {}
        total = sum(v for k, v in counts.items() if k in ("train", "valid", "test"))
        sets.append(f"{row[0]} ({total})" if total else row[0])
    runs = 0
    if db.execute("SELECT 1 FROM sqlite_master WHERE name = 'runs'").fetchone():
        runs = int(db.execute("SELECT COUNT(*) FROM runs").fetchone()[0])
    return [
        ("build", ", ".join(sets) or "no set built yet"),
        ("train", f"{runs} run(s)"),
    ]


# -- an example as detail sections -------------------------------------------------------------
def _content(msg: dict[str, Any]) -> str:
    content = msg.get("content")
    if isinstance(content, str):
        return content
    return json.dumps(content, ensure_ascii=False, indent=2)


def _readable_calls(calls: Any) -> Any:
    """Tool calls with their JSON-string arguments decoded (shown as JSON, not escaped)."""
    if not isinstance(calls, list):
        return calls
    out = []
    for call in calls:
        fn = call.get("function") if isinstance(call, dict) else None
        args = fn.get("arguments") if isinstance(fn, dict) else None
        if isinstance(args, str):
            with contextlib.suppress(ValueError):  # not JSON: shown as the string it is
                call = {**call, "function": {**fn, "arguments": json.loads(args)}}
        out.append(call)
    return out


def example_sections(example: Example, *, side_by_side: bool = True) -> list[Section]:
    """Every turn of ``example`` top to bottom (tool calls and tools as JSON, meta last); the
    last user and assistant turns side by side (group "turn") when ``side_by_side``."""
    msgs = example.messages
    last_user = max((i for i, m in enumerate(msgs) if m.get("role") == "user"), default=-1)
    last_assistant = max(
        (i for i, m in enumerate(msgs) if m.get("role") == "assistant"), default=-1
    )
    out: list[Section] = []
    for index, msg in enumerate(msgs):
        role = str(msg.get("role") or "?")
        title = f"{index + 1} {role}"
        if index == last_user:
            title += " (the prompt: edit it in the Prompt pane)"
        group = "turn" if side_by_side and index in (last_user, last_assistant) else None
        text = _content(msg)
        if text:
            out.append(Section(title, cut(text), "markdown" if role != "tool" else None, group))
        if msg.get("tool_calls"):
            calls = json.dumps(_readable_calls(msg["tool_calls"]), ensure_ascii=False, indent=2)
            out.append(Section(f"{title}: tool calls", cut(calls), "json", group))
        elif not text:
            out.append(Section(title, "(empty)", None, group))
    if example.tools:
        tools = json.dumps(example.tools, ensure_ascii=False, indent=2)
        out.append(Section(f"tools ({len(example.tools)})", cut(tools), "json"))
    if example.meta:
        meta = json.dumps(example.meta, ensure_ascii=False, indent=2)
        out.append(Section("meta", cut(meta), "json"))
    return out


def budget_section(db: Any, item_id: str) -> Section | None:
    """The item's budget count with its parts, or None before any budget."""
    row = db.execute(
        "SELECT total_tokens, max_tokens, action, parts, reason FROM budget WHERE item_id = ?",
        [item_id],
    ).fetchone()
    if row is None:
        return None
    total, limit, action, parts, reason = row
    try:
        split = json.loads(parts or "{}")
    except ValueError:
        split = {}
    lines = [f"{total:,} of {limit:,} tokens: {action}" + (f" ({reason})" if reason else "")]
    lines += [f"  {k:<10} {v:>8,}" for k, v in split.items() if isinstance(v, int | float)]
    return Section("budget", "\n".join(lines))


def curation_section(db: Any, item_id: str) -> Section | None:
    row = db.execute(
        "SELECT decision, note, updated_at FROM curation WHERE item_id = ?", [item_id]
    ).fetchone()
    if row is None:
        return None
    decision, note, at = row
    text = f"{decision.replace('_', ' ')} ({at})" + (f"\n{note}" if note else "")
    return Section("curation", text)


def state_sections(db: Any, item_id: str) -> list[Section]:
    """The item's budget count and curation decision, those it has."""
    found = (budget_section(db, item_id), curation_section(db, item_id))
    return [s for s in found if s is not None]
