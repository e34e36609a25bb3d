from __future__ import annotations

from typing import Any

import click

from graftwork.commands._common import out_console, workspace_from
from graftwork.core import edits
from graftwork.core.base.workspace import Workspace
from graftwork.core.curate.curation import all_decisions


@click.command("curate")
@click.argument("item_id", required=False)
@click.option("--include", "decision", flag_value="include", help="Use this item in datasets.")
@click.option(
    "--exclude", "decision", flag_value="exclude", help="Never use this item (always wins)."
)
@click.option(
    "--needs-work", "decision", flag_value="needs_work", help="Mark the item for another look."
)
@click.option("--clear", "clear", is_flag=True, help="Remove the decision (history keeps it).")
@click.option("--note", default=None, help="Why (kept with the decision and in its history).")
@click.option("--list", "list_", is_flag=True, help="List every decision.")
@click.pass_context
def command(
    ctx: click.Context,
    item_id: str | None,
    decision: str | None,
    clear: bool,
    note: str | None,
    list_: bool,
) -> None:
    """Record the curation decision (CT_*) for ITEM_ID.

    Examples: graftwork curate AnalogClock --exclude --note "coffee only";
    graftwork curate --list
    """
    ws = workspace_from(ctx)
    with ws.catalog() as db:
        msg = _decide(ws, db, item_id, decision, note, clear=clear, list_=list_)
    if msg is not None:
        out_console.print(msg, markup=False, highlight=False)


def _decide(
    ws: Workspace,
    db: Any,
    item_id: str | None,
    decision: str | None,
    note: str | None,
    *,
    clear: bool,
    list_: bool,
) -> str | None:
    """List the decisions (None), or record or clear one; the line to print."""
    if list_:
        if item_id or decision or clear:
            raise click.UsageError("--list takes no ID and no decision")
        rows = all_decisions(db)
        for iid, row in rows.items():  # tab-separated, so scripts can cut/awk it
            click.echo(f"{iid}\t{row['decision']}\t{row['note'] or ''}\t{row['updated_at']}")
        click.echo(f"{len(rows)} decision(s)", err=True)
        return None
    if not item_id:
        raise click.UsageError("give an ID (or --list)")
    if bool(decision) == clear:
        raise click.UsageError(
            "choose exactly one of --include, --exclude, --needs-work or --clear"
        )
    if clear:
        had = edits.clear_decision(ws, db, item_id, note)
        msg = f"{item_id}: decision cleared" if had else f"{item_id}: had no decision"
    else:
        edits.decide(ws, db, item_id, decision, note)
        msg = f"{item_id}: {decision}" + (f" ({note})" if note else "")
    return msg
