"""The import recipe in the workstation (recipes/views.py): one row per imported record with
its format and source file, previews of the user turn (the current prompt) and the assistant
turn, tokens and curation decision; the detail is the whole example (every message, tool
calls, tools, meta) with where it came from.

Rows for 100,000 records are read with three queries (records, current prompts, budget and
curation), never one query per item, and only the start of each text is read."""

from __future__ import annotations

from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts.current import current_expr
from graftwork.core.recipes import view_parts
from graftwork.core.recipes.views import Section
from graftwork.core.sources.imported import SOURCE, provider

# The newest revision of each record, the start of its last message (the assistant turn: a
# record ends with it) and of its current prompt, its budget and curation: one query, every
# preview cut in SQLite's C code (json_extract included), so no Python JSON or string work.
_ROWS_SQL = f"""
SELECT i.id, e.format, e.origin, e.rev,
       {view_parts.sql_preview(current_expr("pr.text", "i.id"))},
       {view_parts.sql_preview("json_extract(e.messages, '$[#-1].content')")},
       b.total_tokens, b.over_by, b.action, c.decision
FROM items i JOIN import_examples e ON e.item_id = i.id
 AND e.rev = (SELECT MAX(rev) FROM import_examples x WHERE x.item_id = i.id)
LEFT JOIN budget b ON b.item_id = i.id LEFT JOIN curation c ON c.item_id = i.id
WHERE i.source = ? {{where}}
ORDER BY COALESCE(i.manifest_order, 1e18), i.id
"""


def _file(origin: str) -> str:
    """``path/to/records.jsonl:12`` -> ``records.jsonl:12`` (the column is narrow)."""
    path, _, line = (origin or "").rpartition(":")
    if not path:
        return origin or ""
    return f"{path.replace(chr(92), '/').rsplit('/', 1)[-1]}:{line}"


class ImportView:
    """RecipeView of the import recipe."""

    actions = view_parts.curation_actions("import")

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self.filters = (*view_parts.CURATION_FILTERS,)

    def rows(self, db: Any, ids: list[str] | None = None) -> list[dict[str, Any]]:
        found: list[tuple[Any, ...]] = []
        if ids is None:
            found = db.execute(_ROWS_SQL.format(where=""), [SOURCE]).fetchall()
        else:
            for part, marks in view_parts.chunks(list(ids)):
                sql = _ROWS_SQL.format(where=f"AND i.id IN ({marks})")
                found.extend(db.execute(sql, [SOURCE, *part]).fetchall())
        files: dict[str, str] = {}  # one file's records share the name: split each path once
        out = []
        for item_id, fmt, origin, rev, user, assistant, tokens, over_by, action, decision in found:
            path, _, line = (origin or "").rpartition(":")
            name = files.get(path)
            if name is None:
                name = files[path] = _file(f"{path}:")[:-1] if path else ""
            out.append(
                {
                    "id": item_id,
                    "format": fmt or "",
                    "file": (where := f"{name}:{line}" if path else origin or ""),
                    "source": f"{fmt or '?'} {where}",
                    "rev": rev,
                    "user": user or "",
                    "assistant": assistant or "",
                    "tokens": tokens,
                    "over_by": over_by or 0,
                    "budget": action or "",
                    "decision": decision or "",
                }
            )
        return out

    def detail(self, db: Any, item_id: str) -> list[Section]:
        from graftwork.core.prompts.current import current_of_sql

        record = db.execute(
            "SELECT format, origin, rev, sha256, created_at FROM import_examples "
            "WHERE item_id = ? ORDER BY rev DESC LIMIT 1",
            [item_id],
        ).fetchone()
        if record is None:
            return [Section(item_id, "not an imported record (run `graftwork import FILE`)")]
        fmt, origin, rev, sha, at = record
        current = db.execute(current_of_sql("text, rev, state, origin"), [item_id]).fetchone()
        prompt_text = current[0] if current else ""
        head = [
            f"{fmt} record from {origin}",
            f"revision {rev} of the record, imported {at}, sha256 {sha[:12]}",
        ]
        if current:
            head.append(f"prompt r{current[1]} ({current[2]}, {current[3]})")
        out = [Section(item_id, "\n".join(head))]
        try:
            example = provider(self.ws).example_for(db, item_id, prompt_text)
        except ValueError as exc:
            out.append(Section("example", f"cannot read the stored example: {exc}"))
        else:
            out.extend(view_parts.example_sections(example))
        return out + view_parts.state_sections(db, item_id)

    def dashboard(self, db: Any) -> list[tuple[str, str]]:
        formats = db.execute(
            "SELECT e.format, COUNT(*) FROM items i JOIN import_examples e ON e.item_id = i.id "
            "AND e.rev = 1 WHERE i.source = ? GROUP BY e.format ORDER BY e.format",
            [SOURCE],
        ).fetchall()
        total = sum(n for _, n in formats)
        revised = db.execute(
            "SELECT COUNT(DISTINCT item_id) FROM import_examples WHERE rev > 1"
        ).fetchone()[0]
        imports = db.execute(
            "SELECT COUNT(*), MAX(ended_at) FROM jobs WHERE kind = 'import'"
        ).fetchone()
        by_format = ", ".join(f"{n} {f}" for f, n in formats)
        lines = [
            ("import", f"{total} records ({by_format or 'none yet'}); {revised} changed by a "
                       f"re-import; {imports[0]} import run(s), last {imports[1] or '—'}"),
            ("budget, curate", view_parts.curation_counts(db, SOURCE)),
        ]  # fmt: skip
        return lines + view_parts.sets_and_runs(self.ws, db)


def view(ws: Workspace) -> ImportView:
    return ImportView(ws)
