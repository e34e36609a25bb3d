"""`graftwork templates`: generate the templates recipe's Alpaca records."""

from __future__ import annotations

import click

from graftwork.commands._common import (
    finish,
    out_console,
    run_with_progress,
    workspace_from,
)


@click.command("templates")
@click.option(
    "--spec",
    type=click.Path(dir_okay=False),
    default=None,
    help="The spec YAML (default: spec.yaml in the workspace).",
)
@click.pass_context
def command(ctx: click.Context, spec: str | None) -> None:
    """Fill the spec's template categories over its word list: Alpaca records checked against
    the schema, data/processed/templates/<name>_<version>.jsonl and train/val/test.jsonl (a
    word never in two splits), and the records as catalog items. Counts per category, style
    and separator are printed; a template missing a variable is skipped with a warning.

    Example: graftwork templates --spec data/templates/spelling.yaml
    """
    from graftwork.core.rules.alpaca import load_templates
    from graftwork.core.rules.stage import spec_path
    from graftwork.wiring import open_tokenizer

    ws = workspace_from(ctx)
    path = spec_path(ws, spec)
    load_templates(path, open_tokenizer)  # a bad spec is an error (exit 2) before a job is recorded
    result = run_with_progress(ws, "templates", {"spec": str(path)})
    s = result.summary
    for key, values in s["counts"].items():
        shown = ", ".join(f"{v} {n}" for v, n in sorted(values.items()))
        out_console.print(f"  {key}: {shown}", markup=False, highlight=False)
    splits = ", ".join(f"{k} {v}" for k, v in s["splits"].items())
    finish(result, f"generated {s['records']} record(s) ({splits})")
