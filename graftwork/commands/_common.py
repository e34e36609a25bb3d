"""Shared helpers for subcommands: workspace resolution, rich progress, exit codes."""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from graftwork.core.base.jobs import JobEvent, Listener, StageResult
from graftwork.core.base.workspace import Workspace, resolve_workspace

# Piped output is read by scripts and logs: give tables room instead of rich's 80-column
# default, which squeezes ids and numbers into ellipses.
_PIPE_WIDTH = 200
err_console = Console(
    stderr=True, highlight=False, width=None if sys.stderr.isatty() else _PIPE_WIDTH
)
out_console = Console(highlight=False, width=None if sys.stdout.isatty() else _PIPE_WIDTH)


def workspace_from(ctx: click.Context) -> Workspace:
    root = ctx.find_root()
    explicit = (root.obj or {}).get("workspace")
    return resolve_workspace(explicit)


@contextlib.contextmanager
def progress_listener(description: str) -> Iterator[Listener]:
    """A job listener that drives a rich progress bar and prints item failures on stderr."""
    progress = Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[item]}"),
        console=err_console,
        transient=False,
        disable=not err_console.is_terminal,
    )
    task = progress.add_task(description, total=None, item="")

    def listen(event: JobEvent) -> None:
        if event.type == "total":
            progress.update(task, total=event.total)
        elif event.type == "progress":
            progress.update(task, completed=event.done, item=event.item_id or "")
        elif event.type == "log" and event.level in ("error", "warning") and not event.fatal:
            style = "red" if event.level == "error" else "yellow"
            # Messages carry user data (names like "[bold]"): never parse them as markup.
            progress.console.print(
                Text.assemble((f"{event.level}: ", style), event.message), soft_wrap=True
            )

    with progress:
        yield listen


def run_with_progress(
    ws: Workspace,
    name: str,
    params: dict[str, Any] | None = None,
    label: str | None = None,
    extra: Iterable[Listener] = (),
) -> StageResult:
    """Run the declared stage ``name`` (graftwork.core.stage_list) with a progress bar."""
    from graftwork.core.stages import get_stage, run_stage

    with progress_listener(label or get_stage(name).label) as listen:
        return run_stage(ws, name, params, [listen, *extra])


def finish(result: StageResult, summary_line: str) -> None:
    """Print the summary and exit 1 if any item failed."""
    out_console.print(summary_line, markup=False, highlight=False)
    if result.failed:
        err_console.print(f"{len(result.failed)} item(s) failed:", style="red")
        for item, cause in result.failed:
            err_console.print(f"  {item}: {cause}", markup=False, highlight=False)
        sys.exit(1)


# --best/--last: which adapter of a run (fuse, ship); the value is True for best.
best_or_last = click.option(
    "--best/--last",
    "best",
    default=True,
    help="Which adapter: best validation loss (default) or last.",
)
