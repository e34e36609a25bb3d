from __future__ import annotations

from pathlib import Path

import click

from graftwork.commands._common import finish, out_console, progress_listener, workspace_from
from graftwork.core.dataset.exporters import FORMATS


@click.command("export")
@click.option(
    "--set", "set_name", required=True, metavar="NAME", help="Name of a built set (datasets/NAME)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(FORMATS)),
    required=True,
    help="apple: checked copy; mlx-chat: mlx-lm chat data; alpaca: instruction/input/output/meta.",
)
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Output folder (default: datasets/NAME/export/FORMAT/).",
)
@click.pass_context
def command(ctx: click.Context, set_name: str, fmt: str, out_dir: Path | None) -> None:
    """Export the train/valid/test files of a built set in another format.

    Example: graftwork export --set widgets-v1 --format mlx-chat"""
    from graftwork.core.base.jobs import run_job
    from graftwork.core.dataset.exporters import export_set, set_dir

    ws = workspace_from(ctx)
    set_dir(ws, set_name)  # an unknown set is a usage error, said once, before any job starts
    with ws.catalog() as db, progress_listener(f"export {fmt}") as listen:
        result = run_job(
            db,
            "export",
            lambda job: export_set(ws, set_name, fmt, out_dir, job),
            params={"set": set_name, "format": fmt, "out": str(out_dir or "")},
            listeners=[listen],
        )
    counts = result.summary["counts"]
    per_split = ", ".join(f"{split} {n}" for split, n in counts.items())
    out_console.print(
        f"output: {result.summary['out']}", soft_wrap=True, markup=False, highlight=False
    )
    finish(result, f"exported {result.ok} example(s) of set {set_name} as {fmt} ({per_split})")
