"""`graftwork eval --run ID`: the plan recipe's evaluation suite, base vs adapter."""

from __future__ import annotations

import click

from graftwork.commands._common import finish, out_console, run_with_progress, workspace_from
from graftwork.commands.sample import generation_options


@click.command("eval")
@click.option("--run", "run_id", required=True, help="Training run id (see `graftwork runs`).")
@click.option(
    "--suite",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Suite JSONL (default: eval/suites/<spec eval.name>_<version>.jsonl).",
)
@click.option("--n", "n", type=int, default=None, help="Only the first N prompts of the suite.")
@generation_options
@click.pass_context
def command(
    ctx: click.Context,
    run_id: str,
    suite: str | None,
    n: int | None,
    seed: int,
    temperature: float,
    max_tokens: int,
    adapter: str,
) -> None:
    """Generate an answer to every suite prompt with the base model and with the run's adapter,
    score both with the spec's contract (parse, schema, required keys), store them as samples
    (split "suite": review them side by side) and write runs/<run>/eval_<suite>.md.

    Example: graftwork eval --run 20261201-0815 --suite eval/suites/fixed20_v1.jsonl"""
    from graftwork.core.review.samples import SampleSettings

    ws = workspace_from(ctx)
    settings = SampleSettings(
        split="test",
        n=n,
        seed=seed,
        temperature=temperature,
        max_tokens=max_tokens,
        adapter=adapter,
    )
    settings.check()
    params = {k: v for k, v in settings.__dict__.items() if k != "split"}
    result = run_with_progress(ws, "eval", {"run_id": run_id, "suite": suite, **params})
    s = result.summary
    out_console.print(
        f"passes the contract: base {s['base_passes']}/{s['prompts']}, adapter "
        f"{s['adapter_passes']}/{s['prompts']}",
        markup=False,
        highlight=False,
    )
    finish(result, f"report {s['report']}")
