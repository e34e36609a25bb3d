from __future__ import annotations

from pathlib import Path

import click

from graftwork.commands._common import finish, run_with_progress, workspace_from


def _widget_ids(widgets: str | None, widget_file: str | None) -> list[str] | None:
    if widgets is None and widget_file is None:
        return None
    from graftwork.core.ingest.manifest import read_widget_file

    ids = [w.strip() for w in (widgets or "").split(",") if w.strip()]
    if widget_file is not None:
        ids += read_widget_file(Path(widget_file))
    if not ids:
        raise click.UsageError("--widgets/--widget-file named no widget ids")
    return ids


@click.command("ingest")
@click.option(
    "--manifest",
    required=True,
    metavar="PATH_OR_URL",
    help="Gallery manifest: a path, file:// URL or http(s) URL.",
)
@click.option(
    "--widgets", default=None, metavar="A,B,C", help="Only these widget ids (comma separated)."
)
@click.option(
    "--widget-file",
    default=None,
    type=click.Path(dir_okay=False),
    help="Only the widget ids in this file (one per line, # comments allowed).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=None,
    help="Parallel downloads (default: project.ingest.concurrency, 8).",
)
@click.option("--refresh", is_flag=True, help="Download again even when the archive is unchanged.")
@click.option("--no-screenshots", is_flag=True, help="Do not fetch screenshots.")
@click.pass_context
def command(
    ctx: click.Context,
    manifest: str,
    widgets: str | None,
    widget_file: str | None,
    concurrency: int | None,
    refresh: bool,
    no_screenshots: bool,
) -> None:
    """Download every widget of a gallery manifest and extract it safely into downloads/<id>/.

    Example: graftwork ingest --manifest widgets.json --widgets AnalogClock,battery
    """
    ws = workspace_from(ctx)
    ids = _widget_ids(widgets, widget_file)
    params = {
        "manifest": manifest,
        "widgets": ids,
        "concurrency": concurrency,
        "refresh": refresh,
        "screenshots": not no_screenshots,
    }
    result = run_with_progress(ws, "ingest", params)
    s = result.summary
    finish(
        result,
        f"ingest: {result.ok} ok ({s.get('downloaded', 0)} downloaded, {s.get('unchanged', 0)} unchanged), "
        f"{len(result.failed)} failed",
    )
