from __future__ import annotations

import sys

import click

from graftwork.commands._common import workspace_from
from graftwork.core.base.errors import WorkspaceError


def launch(ctx: click.Context) -> None:
    ws = workspace_from(ctx)
    from graftwork.tui.app import run_app  # Textual is imported only here

    run_app(ws)


def open_tui_or_help(ctx: click.Context) -> None:
    """Bare `graftwork`: open the app inside a workspace on a terminal, else show help."""
    try:
        workspace_from(ctx)
    except WorkspaceError:
        click.echo(ctx.get_help())
        return
    if not sys.stdout.isatty():
        click.echo(ctx.get_help())
        return
    launch(ctx)


@click.command("tui")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Open the keyboard-driven workstation on the workspace."""
    launch(ctx)
