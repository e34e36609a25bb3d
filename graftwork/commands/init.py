from __future__ import annotations

from pathlib import Path

import click

from graftwork.core.base.workspace import Workspace


@click.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False), default=".")
def command(directory: str) -> None:
    """Create a new workspace in DIRECTORY (default: here): graftwork.yaml, graftwork.db,
    downloads/, prompts/, datasets/, runs/. Safe to run again: nothing is overwritten."""
    ws = Workspace.init(Path(directory))
    click.echo(f"workspace ready at {ws.root}")
