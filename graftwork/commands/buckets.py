"""`graftwork buckets`: generate the buckets recipe's records (the recipe's first stage)."""

from __future__ import annotations

import click

from graftwork.commands._common import (
    finish,
    out_console,
    run_with_progress,
    workspace_from,
)


@click.command("buckets")
@click.option(
    "--spec",
    type=click.Path(dir_okay=False),
    default=None,
    help="The spec YAML (default: spec.yaml in the workspace).",
)
@click.pass_context
def command(ctx: click.Context, spec: str | None) -> None:
    """Fill every bucket of the spec with rule-generated records: one JSONL file per bucket in
    data/processed/buckets/ and the records as catalog items. Deterministic for the spec's
    seed; never the same instruction twice; a target the templates cannot reach is said.

    Example: graftwork buckets --spec configs/specs/buckets_coding.yaml
    """
    from graftwork.core.rules.buckets import load_buckets
    from graftwork.core.rules.stage import spec_path

    ws = workspace_from(ctx)
    path = spec_path(ws, spec)
    load_buckets(path)  # a bad spec is an error (exit 2) before a job is recorded
    result = run_with_progress(ws, "buckets", {"spec": str(path)})
    for bucket, c in result.summary["counts"].items():
        out_console.print(
            f"  {bucket}: {c['made']} of {c['target']}", markup=False, highlight=False
        )
    finish(result, f"generated {result.ok} record(s) -> {len(result.summary['files'])} file(s)")
