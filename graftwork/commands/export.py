from __future__ import annotations

from pathlib import Path

import click

from graftwork.commands._common import finish, out_console, run_with_progress, workspace_from
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
    from graftwork.core.dataset.exporters import set_dir

    ws = workspace_from(ctx)
    set_dir(ws, set_name)  # an unknown set is a usage error, said once, before any job starts
    result = run_with_progress(
        ws, "export", {"set_name": set_name, "fmt": fmt, "out_dir": out_dir}, f"export {fmt}"
    )
    counts = result.summary["counts"]
    per_split = ", ".join(f"{split} {n}" for split, n in counts.items())
    out_console.print(
        f"output: {result.summary['out']}", soft_wrap=True, markup=False, highlight=False
    )
    finish(result, f"exported {result.ok} example(s) of set {set_name} as {fmt} ({per_split})")
