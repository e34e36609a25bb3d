"""`graftwork fuse`: fuse a run's adapter into its base model."""

from __future__ import annotations

from pathlib import Path

import click

from graftwork.commands._common import best_or_last, out_console, workspace_from


@click.command("fuse")
@click.option("--run", "run_id", required=True, metavar="ID", help="Run id (or a unique prefix).")
@best_or_last
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (default runs/ID/fused-best).",
)
@click.pass_context
def command(ctx: click.Context, run_id: str, best: bool, out: Path | None) -> None:
    """Fuse a run's adapter into its base model and save the result as a model folder."""
    from graftwork import wiring

    ws = workspace_from(ctx)
    with out_console.status("fusing"):
        path = wiring.fuse(ws, run_id, which="best" if best else "last", out=out)
    out_console.print(f"fused model written to {path}", markup=False, highlight=False)
