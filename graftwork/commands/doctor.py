"""`graftwork doctor`: what this machine can do, before a user waits for a failure."""

from __future__ import annotations

import json

import click
from rich.table import Table

from graftwork.commands._common import out_console

STYLE = {"ok": "green", "warn": "yellow", "missing": "red", "info": "cyan"}


@click.command("doctor")
@click.option("--json", "as_json", is_flag=True, help="Print facts and checks as JSON.")
@click.option("--offline", is_flag=True, help="Do not contact the teacher endpoint.")
@click.pass_context
def command(ctx: click.Context, as_json: bool, offline: bool) -> None:
    """Platform, MLX backend and memory, configured model, Apple toolkit, teacher endpoint.
    Always exits 0: doctor reports, it does not fail."""
    from graftwork.adapters.machine import gather_facts
    from graftwork.core.base.errors import WorkspaceError
    from graftwork.core.base.workspace import resolve_workspace
    from graftwork.core.doctor import checks

    explicit = (ctx.find_root().obj or {}).get("workspace")
    try:
        ws = resolve_workspace(explicit)
    except WorkspaceError:
        ws = None  # outside a workspace doctor still checks the machine and the defaults
    facts = gather_facts(ws, network=not offline)
    results = checks(facts)
    if as_json:
        click.echo(
            json.dumps(
                {"facts": facts.as_dict(), "checks": [c.__dict__ for c in results]}, indent=2
            )
        )
        return
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    for col in ("check", "status", "detail"):
        table.add_column(col, overflow="fold")
    for c in results:
        detail = c.detail + (f"\n  -> {c.hint}" if c.hint else "")
        table.add_row(c.name, f"[{STYLE[c.status]}]{c.status}[/]", detail.replace("[", r"\["))
    out_console.print(table)
    out_console.print(f"workspace: {ws.root if ws else '(none)'}", markup=False, highlight=False)
