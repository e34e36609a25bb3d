"""`graftwork dashboard`: the readmes recipe's phases with their counts (seed 001)."""

from __future__ import annotations

import click

from graftwork.commands._common import out_console, workspace_from


@click.command("dashboard")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Each phase of the readmes pipeline with its counts: repositories collected, chunks,
    instructions done and failed, records per set, training runs."""
    from graftwork.core.sources.readmes.status import dashboard

    ws = workspace_from(ctx)
    with ws.catalog() as db:
        rows = dashboard(ws, db)
    for phase, counts in rows:
        out_console.print(f"{phase:<12} {counts}", markup=False, highlight=False)
