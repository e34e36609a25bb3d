"""The workstation's view of a recipe that declares none (``Recipe.view`` empty): every item
of the recipe's source with its name, prompt state, the start of its prompt, tokens and
curation decision; the detail is the example its provider builds. It brings its own columns
(a recipe's declared columns name keys only its own view fills)."""

from __future__ import annotations

from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts.current import current_expr
from graftwork.core.recipes import Column, Recipe, view_parts
from graftwork.core.recipes.views import Section

COLUMNS = (
    Column("id", "id", 18),
    Column("name", "name"),
    Column("prompt", "prompt", 8),
    Column("user", "user"),
    Column("tokens", "tokens", 7),
    Column("decision", "decision", 10),
)

_ROWS_SQL = f"""
SELECT i.id, i.name, {current_expr("pr.state", "i.id")},
       {view_parts.sql_preview(current_expr("pr.text", "i.id"))},
       b.total_tokens, b.over_by, b.action, c.decision
FROM items i LEFT JOIN budget b ON b.item_id = i.id LEFT JOIN curation c ON c.item_id = i.id
WHERE i.source = ? {{where}}
ORDER BY COALESCE(i.manifest_order, 1e18), i.id
"""


class BasicView:
    columns = COLUMNS

    def __init__(self, ws: Workspace, recipe: Recipe) -> None:
        self.ws, self.recipe = ws, recipe
        self.actions = view_parts.curation_actions(recipe.name)
        self.filters = view_parts.CURATION_FILTERS

    def rows(self, db: Any, ids: list[str] | None = None) -> list[dict[str, Any]]:
        found: list[tuple[Any, ...]] = []
        source = self.recipe.source
        if ids is None:
            found = db.execute(_ROWS_SQL.format(where=""), [source]).fetchall()
        else:
            for part, marks in view_parts.chunks(list(ids)):
                sql = _ROWS_SQL.format(where=f"AND i.id IN ({marks})")
                found.extend(db.execute(sql, [source, *part]).fetchall())
        return [
            {
                "id": item_id,
                "name": name or "",
                "prompt": state or "",
                "user": user or "",
                "tokens": tokens,
                "over_by": over_by or 0,
                "budget": action or "",
                "decision": decision or "",
            }
            for item_id, name, state, user, tokens, over_by, action, decision in found
        ]

    def detail(self, db: Any, item_id: str) -> list[Section]:
        from graftwork.core.base.errors import GraftworkError
        from graftwork.core.prompts.current import current_of_sql

        item = db.execute("SELECT name, description FROM items WHERE id = ?", [item_id]).fetchone()
        if item is None:
            return [Section(item_id, "no such item")]
        out = [Section(item[0] or item_id, item[1] or f"{self.recipe.name} item {item_id}")]
        current = db.execute(current_of_sql("text"), [item_id]).fetchone()
        try:
            example = self.recipe.example_provider(self.ws).example_for(
                db, item_id, current[0] if current else ""
            )
        except (GraftworkError, ValueError) as exc:
            out.append(Section("example", f"no example yet: {exc}"))
        else:
            out.extend(view_parts.example_sections(example))
        return out + view_parts.state_sections(db, item_id)

    def dashboard(self, db: Any) -> list[tuple[str, str]]:
        items = db.execute(
            "SELECT COUNT(*) FROM items WHERE source = ?", [self.recipe.source]
        ).fetchone()[0]
        return [
            ("items", f"{items} {self.recipe.source} items"),
            ("budget, curate", view_parts.curation_counts(db, self.recipe.source)),
            *view_parts.sets_and_runs(self.ws, db),
        ]


def view_for(ws: Workspace, recipe: Recipe) -> Any:
    """The recipe's own view, else the basic one (recipes without a view yet)."""
    own = recipe.item_view(ws)
    return own if own is not None else BasicView(ws, recipe)
