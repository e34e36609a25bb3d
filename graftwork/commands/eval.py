"""`graftwork eval --run RUN`: base model vs the run's adapter, scored; optionally judged."""

from __future__ import annotations

import sys
from typing import Any

import click
from rich.table import Table

from graftwork.commands._common import (
    err_console,
    finish,
    out_console,
    run_with_progress,
    workspace_from,
)
from graftwork.commands.teach import (
    _calls_line,
    _confirm_and_run,
    _print_estimate_lines,
    _spent,
    _tokens_line,
    _where,
    teacher_options,
)


def _print_scores(scores: dict[str, dict[str, Any]]) -> None:
    from graftwork.core.eval.compare import eval_rows

    table = Table(box=None, header_style="bold")
    for col in ("metric", "base", "adapter", "Δ adapter − base"):
        table.add_column(col, justify="left" if col == "metric" else "right", no_wrap=True)
    for row in eval_rows(scores):
        table.add_row(*row)
    out_console.print(table, markup=False, highlight=False)


def _judge(
    ws: Any,
    run_id: str,
    eval_id: str | None,
    overrides: dict[str, Any],
    fresh: bool,
    resume: bool,
    yes: bool,
) -> None:
    """Estimate, confirm and run the judge with the teach stages' own lines."""
    from graftwork import wiring
    from graftwork.core.eval.report import fmt

    est = wiring.eval_judge_estimate(
        ws, run_id, eval_id=eval_id, overrides=overrides, fresh=fresh, resume=resume
    )
    resuming = f", resuming run {est['run_id']}" if est["run_id"] else ""
    lines = [
        f"judge {est['pairs']} pair(s) of {est['eval_id']} in both orders{resuming}, {_where(est)}",
        f"{_calls_line(est)}; {_tokens_line(est).strip()}; cost: at most {est['cost_max']:.4f}",
    ]
    _print_estimate_lines(lines, est, [], err_console)
    params = {"run_id": run_id, "eval_id": est["eval_id"], "overrides": overrides}
    result = _confirm_and_run(
        ws,
        "eval.judge",
        est,
        count=est["pairs"],
        nothing=f"evaluation {est['eval_id']} has no answers to judge",
        yes=yes,
        params={**params, "fresh": fresh, "resume": resume},
    )
    if result is None:
        return
    s = result.summary
    judged = ", ".join(f"{k} {fmt(k, v)}" for k, v in s["scores"].items()) or "no scores"
    finish(
        result,
        f"judge run {s['run_id']}{' (dry run: nothing stored)' if s['dry_run'] else ''}: "
        f"{s['judged']}/{s['pairs']} pair(s) judged; {judged}; {_spent(s)}",
    )


@click.command("eval")
@click.option("--run", "run_id", required=True, help="Training run id (see `graftwork runs`).")
@click.option(
    "--best",
    "adapter",
    flag_value="best",
    default=True,
    help="The run's best checkpoint (default).",
)
@click.option("--last", "adapter", flag_value="last", help="The run's last checkpoint.")
@click.option(
    "--split",
    type=click.Choice(["test", "valid", "train"]),
    default=None,
    help="Split of the run's set to evaluate on (default test; a plan workspace uses its fixed suite).",
)
@click.option(
    "--suite",
    type=click.Path(dir_okay=False),
    default=None,
    help="Suite JSONL instead of a split: chat, Alpaca or prompt records (default for the plan recipe: eval/suites/<name>_<version>.jsonl).",
)
@click.option(
    "--n", "n", type=click.IntRange(min=1), default=None, help="Only the first N examples."
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--temperature", type=float, default=0.0, show_default=True, help="0 = greedy.")
@click.option("--max-tokens", type=int, default=1024, show_default=True)
@click.option(
    "--judge",
    is_flag=True,
    help="Then have the teacher compare base and adapter answers pairwise (both orders).",
)
@click.option(
    "--judge-only",
    is_flag=True,
    help="Judge the run's newest evaluation without evaluating again (reuses answered calls).",
)
@click.option("--fresh", is_flag=True, help="Judge: do not reuse earlier answered calls.")
@click.option(
    "--resume",
    is_flag=True,
    help="Judge: continue the newest unfinished judge run (its finished verdicts are kept).",
)
@click.option("--yes", "-y", is_flag=True, help="Judge: do not ask for confirmation.")
@teacher_options
@click.pass_context
def command(
    ctx: click.Context,
    run_id: str,
    adapter: str,
    split: str | None,
    suite: str | None,
    n: int | None,
    seed: int,
    temperature: float,
    max_tokens: int,
    judge: bool,
    judge_only: bool,
    fresh: bool,
    resume: bool,
    yes: bool,
    overrides: dict[str, Any],
) -> None:
    """Base model vs the run's adapter on the same examples, seed and settings: loss and
    perplexity of the reference answers (mlx-lm's evaluation), generation tokens/s, and the
    recipe's metrics on the generated answers (tool calls for buckets, the contract for plan,
    exact match for templates, JSX checks for widgets). Stores the scores with the run, the
    answers as samples (review them side by side) and writes runs/<run>/eval_<split|suite>.md.

    --judge asks the teacher which answer is better, each pair twice with the positions
    swapped (cost estimate and confirmation first; every call logged; a rerun reuses answered
    calls). Compare runs with `graftwork runs --compare A B`.

    Example: graftwork eval --run 20261201-0815 --split test --judge"""
    ws = workspace_from(ctx)
    if split and suite:
        raise click.UsageError("give --split or --suite, not both")
    if resume and not judge_only:
        raise click.UsageError("--resume continues a judge run: use it with --judge-only")
    if judge_only:
        _judge(ws, run_id, None, overrides, fresh, resume, yes)
        return
    params = {
        "run_id": run_id,
        "split": split,
        "suite": suite,
        "n": n,
        "seed": seed,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "adapter": adapter,
    }
    result = run_with_progress(ws, "eval", params)
    s = result.summary
    _print_scores(s["scores"])
    if judge:
        out_console.print(
            f"evaluated {s['examples']} example(s) of {s['source']}; report {s['report']}",
            markup=False,
            highlight=False,
        )
        if result.failed:
            for item, cause in result.failed:
                err_console.print(f"  {item}: {cause}", markup=False, highlight=False)
        _judge(ws, run_id, s["eval_id"], overrides, fresh, False, yes)
        if result.failed:  # the judge went fine; the evaluation had failed examples
            sys.exit(1)
        return
    continued = (
        f"; continued an interrupted evaluation ({s['continued']} of {2 * s['examples']} "
        "answers kept)"
        if s.get("continued")
        else ""
    )
    finish(
        result,
        f"evaluated {s['examples']} example(s) of {s['source']} (run {s['run']}, {s['checkpoint']} "
        f"adapter); report {s['report']}{continued}",
    )
