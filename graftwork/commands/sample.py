"""`graftwork sample --run ID`: base and adapter outputs for held-out prompts, side by side."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from graftwork.commands._common import finish, out_console, run_with_progress, workspace_from


def generation_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--seed, --temperature, --max-tokens, --adapter: how base and adapter generate (sample, eval)."""
    options = [
        click.option("--seed", type=int, default=0, show_default=True),
        click.option(
            "--temperature", type=float, default=0.0, show_default=True, help="0 = greedy."
        ),
        click.option("--max-tokens", type=int, default=1024, show_default=True),
        click.option(
            "--adapter",
            type=click.Choice(["best", "last"]),
            default="best",
            show_default=True,
            help="Which of the run's adapters to sample from.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)
    return fn


@click.command("sample")
@click.option(
    "--run",
    "run_id",
    required=True,
    help="Training run id (or a unique prefix; see `graftwork runs`).",
)
@click.option(
    "--split",
    type=click.Choice(["test", "valid", "train"]),
    default="test",
    show_default=True,
    help="Which split of the run's set to take prompts from.",
)
@click.option("--n", "n", type=int, default=None, help="Only the first N prompts of the split.")
@generation_options
@click.pass_context
def command(
    ctx: click.Context,
    run_id: str,
    split: str,
    n: int | None,
    seed: int,
    temperature: float,
    max_tokens: int,
    adapter: str,
) -> None:
    """Generate with the base model and with the run's adapter (same seed, temperature and max
    tokens) and store both beside the reference answer for review.

    Example: graftwork sample --run 20261122-0215 --n 8 --temperature 0.7 --seed 1"""
    from graftwork.core.review.samples import SampleSettings

    ws = workspace_from(ctx)
    settings = SampleSettings(
        split=split, n=n, seed=seed, temperature=temperature, max_tokens=max_tokens, adapter=adapter
    )
    settings.check()
    result = run_with_progress(ws, "sample", {"run_id": run_id, **settings.__dict__})
    out_console.print(
        f"review them with `graftwork review list --run {result.summary['run']}` or in the app",
        markup=False,
        highlight=False,
    )
    finish(result, f"stored {result.ok} sample(s) of run {result.summary['run']} ({split} split)")
