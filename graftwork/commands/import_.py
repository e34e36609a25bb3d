from __future__ import annotations

import sys
from pathlib import Path

import click

from graftwork.commands._common import err_console, finish, run_with_progress, workspace_from

FORMAT_CHOICES = ("auto", "alpaca", "chat", "apple", "sharegpt")


@click.command("import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMAT_CHOICES),
    default="auto",
    show_default=True,
    help="Record format; auto detects it per file from its first record.",
)
@click.pass_context
def command(ctx: click.Context, paths: tuple[Path, ...], fmt: str) -> None:
    """Import your own dataset: JSONL or JSON-array files of Alpaca records
    (instruction/input/output/meta), mlx-lm/OpenAI chat records (messages, tools, tool calls),
    Apple adapter lines or ShareGPT conversations. Each record becomes an item with its example
    and its user turn as the prompt; a folder imports every .jsonl/.json file in it.

    Re-importing an unchanged file changes nothing; a changed record becomes a new revision.
    A bad record is reported as FILE:LINE and its cause; the good ones are imported.
    Exit 1 when any record failed, 2 when nothing could be read.

    Example: graftwork import data/train.jsonl --format alpaca
    """
    from graftwork.core.recipes import workspace_recipe_name
    from graftwork.core.sources.imported import import_files

    ws = workspace_from(ctx)
    recipe = workspace_recipe_name(ws)
    if recipe != "import":
        raise click.UsageError(
            f"this workspace's recipe is {recipe!r}; `graftwork import` fills an import "
            "workspace (graftwork init DIR --recipe import)"
        )
    import_files(paths)  # a missing path is a usage error before any job starts
    result = run_with_progress(ws, "import", {"paths": list(paths), "fmt": fmt})
    s = result.summary
    line = (
        f"imported {result.ok} record(s) from {s['files']} file(s): {s['new']} new, "
        f"{s['changed']} changed, {s['unchanged']} unchanged, {len(result.failed)} failed"
    )
    if result.failed and result.ok == 0:
        click.echo(line)
        err_console.print(f"{len(result.failed)} record(s) failed:", style="red")
        for where, cause in result.failed:
            err_console.print(f"  {where}: {cause}", markup=False, highlight=False)
        err_console.print("nothing could be read", style="red")
        sys.exit(2)
    finish(result, line)
