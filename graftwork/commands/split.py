"""`graftwork split`: the plan recipe's seeded splits, SFT files and fixed evaluation suite."""

from __future__ import annotations

import click

from graftwork.commands._common import finish, out_console, run_with_progress, workspace_from


@click.command("split")
@click.option("--sample", "sample", is_flag=True, help="Work on the sample area's dataset.")
@click.pass_context
def command(ctx: click.Context, sample: bool) -> None:
    """dataset_<v>_clean.jsonl (after `qa`) or dataset_<v>.jsonl -> splits/<v>/{train,val,test}
    .jsonl (seeded by id, fractions from the spec), sft/<v>/{train_sft,val_sft}.jsonl (mlx-chat
    messages) and eval/suites/<name>_<v>.jsonl (prompts from the test split, stratified over
    categories, never in train)."""
    ws = workspace_from(ctx)
    area = "sample" if sample else "main"
    result = run_with_progress(ws, "split", {"area": area})
    s = result.summary
    out_console.print(
        "  "
        + ", ".join(f"{k} {v}" for k, v in s["counts"].items())
        + f"; suite {s['suite_size']} prompts -> {s['suite']}",
        markup=False,
        highlight=False,
    )
    finish(result, f"split {s['source']}")
