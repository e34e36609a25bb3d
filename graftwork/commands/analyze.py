from __future__ import annotations

import click

from graftwork.commands._common import finish, run_with_progress, workspace_from


@click.command("analyze")
@click.pass_context
def command(ctx: click.Context) -> None:
    """Scan every downloaded item (widget folder, kind, files, static JSX facts) into the
    catalog and write widget_processing_results.csv at the workspace root.

    Example: graftwork analyze
    """
    result = run_with_progress(workspace_from(ctx), "analyze")
    kinds = (
        ", ".join(f"{n} {k}" for k, n in sorted(result.summary.get("kinds", {}).items()))
        or "nothing"
    )
    finish(
        result,
        f"analyzed {result.ok} item(s) ({kinds}); {len(result.failed)} failed, "
        f"{len(result.skipped)} not downloaded; report: {result.outputs[-1]}",
    )
