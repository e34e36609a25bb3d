"""Per-item edits with their side effects, the same from the CLI and the workstation.

A curation decision or a prompt revision changes the catalog and, for a recipe that keeps
one, the report file (the Übersicht recipe's widget_processing_results.csv). Both interfaces
call these instead of the bare catalog functions, so neither can forget the report.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graftwork.core.base.workspace import Workspace


def refresh_report(ws: Workspace, db: Any) -> Path | None:
    """Rewrite the recipe's report file, if its source keeps one; its path, else None."""
    from graftwork.core.recipes import workspace_recipe

    if workspace_recipe(ws).source != "uebersicht":
        return None
    from graftwork.core.analyze.report_csv import write_report

    return write_report(ws, db)


def decide(
    ws: Workspace, db: Any, item_id: str, decision: str, note: str | None = None
) -> dict[str, Any]:
    """Record a curation decision (see curation.set_decision) and refresh the report."""
    from graftwork.core.curate.curation import set_decision

    row = set_decision(db, item_id, decision, note)
    refresh_report(ws, db)
    return row


def clear_decision(ws: Workspace, db: Any, item_id: str, note: str | None = None) -> bool:
    from graftwork.core.curate import curation

    had = curation.clear_decision(db, item_id, note)
    refresh_report(ws, db)
    return had


def revise(
    ws: Workspace,
    db: Any,
    item_id: str,
    text: str,
    *,
    origin: str,
    note: str | None = None,
    **kwargs: Any,
) -> dict[str, Any]:
    """A new prompt revision (see prompts.add_revision) and the refreshed report."""
    from graftwork.core.prompts.prompts import add_revision

    rev = add_revision(db, item_id, text, origin=origin, note=note, **kwargs)
    refresh_report(ws, db)
    return rev


def set_prompt_state(
    ws: Workspace, db: Any, item_id: str, state: str, note: str | None = None
) -> dict[str, Any]:
    from graftwork.core.prompts.prompts import set_state

    rev = set_state(db, item_id, state, note)
    refresh_report(ws, db)
    return rev
