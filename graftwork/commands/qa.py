"""`graftwork qa`: the plan recipe's optional clean pass."""

from __future__ import annotations

import click

from graftwork.commands._common import finish, out_console, run_with_progress, workspace_from


@click.command("qa")
@click.option("--sample", "sample", is_flag=True, help="Work on the sample area's dataset.")
@click.pass_context
def command(ctx: click.Context, sample: bool) -> None:
    """Remove exact and near duplicates, empty or truncated answers, answers that repeat the
    prompt and language mismatches from dataset_<v>.jsonl: writes dataset_<v>_clean.jsonl and
    dataset_<v>_qa_report.json (what was removed and why). `split` then uses the clean file."""
    ws = workspace_from(ctx)
    area = "sample" if sample else "main"
    result = run_with_progress(ws, "qa", {"area": area})
    s = result.summary
    for rule, n in s["removed_by_rule"].items():
        out_console.print(f"  removed {n}: {rule}", markup=False, highlight=False)
    finish(result, f"kept {s['kept']} of {s['records']} -> {s['clean']} (report {s['report']})")
