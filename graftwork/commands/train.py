"""`graftwork train`: train or resume a LoRA run with a live progress line."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.text import Text

from graftwork.commands._common import err_console, out_console, workspace_from
from graftwork.core.base.jobs import JobEvent


@click.command("train")
@click.option("--set", "set_name", metavar="NAME", help="Built set to train on (datasets/NAME).")
@click.option(
    "--config",
    "config_file",
    type=click.Path(dir_okay=False, exists=True, path_type=Path),
    help="A train.yaml to use instead of graftwork's defaults (graftwork.yaml still applies).",
)
@click.option("--model", help="HF repo id or local model folder.")
@click.option("--iters", type=click.IntRange(min=1), help="Iterations (optimizer steps).")
@click.option("--batch-size", type=click.IntRange(min=1))
@click.option("--learning-rate", type=float)
@click.option("--max-seq-length", type=click.IntRange(min=16))
@click.option(
    "--drop-long",
    is_flag=True,
    help="Drop (and list) examples over max_seq_length instead of stopping.",
)
@click.option(
    "--resume",
    metavar="RUN",
    help="Continue RUN from its last checkpoint (optimizer state included).",
)
@click.option(
    "--public-dataset",
    metavar="PATH_OR_NAME",
    help="Mix a public instruction dataset into the training split: a local Alpaca/chat JSONL "
    "(offline) or a Hugging Face dataset name (online, needs `datasets`).",
)
@click.option(
    "--public-dataset-size",
    type=click.IntRange(min=1),
    help="Records of the public dataset to mix in (default 10,000).",
)
@click.option(
    "--no-public-dataset", is_flag=True, help="Train on the set alone (overrides the config)."
)
@click.pass_context
def command(
    ctx: click.Context,
    set_name: str | None,
    config_file: Path | None,
    model: str | None,
    iters: int | None,
    batch_size: int | None,
    learning_rate: float | None,
    max_seq_length: int | None,
    drop_long: bool,
    resume: str | None,
    public_dataset: str | None,
    public_dataset_size: int | None,
    no_public_dataset: bool,
) -> None:
    """Train a LoRA adapter on a built set. Ctrl-C (or `graftwork runs --cancel RUN`) stops it
    within 2 s and marks the run cancelled, keeping a checkpoint; `graftwork train --resume RUN`
    continues it."""
    if not set_name and not resume:
        raise click.UsageError("pass --set NAME to start a run, or --resume RUN to continue one")
    if set_name and resume:
        raise click.UsageError(
            "--set and --resume do not go together (a resumed run keeps its set)"
        )
    ws = workspace_from(ctx)
    overrides = {
        "model": model,
        "iters": iters,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "max_seq_length": max_seq_length,
        "public_dataset": "" if no_public_dataset else public_dataset,
        "public_dataset_size": public_dataset_size,
    }
    if no_public_dataset and public_dataset:
        raise click.UsageError("--public-dataset and --no-public-dataset do not go together")
    progress = Progress(
        TextColumn("[bold]train"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[loss]}"),
        console=err_console,
        disable=not err_console.is_terminal,
    )
    task = progress.add_task("train", total=None, loss="")

    def listen(event: JobEvent) -> None:
        if event.type == "total":
            progress.update(task, total=event.total)
        elif event.type == "progress":
            progress.update(task, completed=event.done, loss=event.message)
            if not err_console.is_terminal and event.message:
                err_console.print(
                    f"iteration {event.done}/{event.total}: {event.message}", markup=False
                )
        elif event.type == "log":
            if event.fatal:
                return  # the job's copy of the final error; main() prints it once
            style = {"error": "red", "warning": "yellow"}.get(event.level, "dim")
            progress.console.print(
                Text.assemble((f"{event.level}: ", style), event.message), soft_wrap=True
            )

    from graftwork.core.stages import run_stage

    with progress:
        result = run_stage(
            ws,
            "train",
            {
                "set_name": set_name,
                "overrides": {k: v for k, v in overrides.items() if v is not None},
                "resume": resume,
                "drop_long": drop_long,
                "config_file": config_file,
            },
            [listen],
        )
    s = result.summary
    best = (
        f"{s['best_val_loss']:.4f} at iteration {s['best_iteration']}"
        if s.get("best_val_loss") is not None
        else "none"
    )
    if result.skipped:
        out_console.print(
            f"dropped {len(result.skipped)} too-long example(s): "
            + ", ".join(item for item, _ in result.skipped),
            markup=False,
        )
    out_console.print(
        f"run {s['run_id']} {s['state']}: iteration {s.get('last_iteration')}/{s.get('total_iters')}, "
        f"best val loss {best}; adapters in {s['adapter_dir']}",
        markup=False,
        highlight=False,
    )
    if s["state"] == "cancelled":
        out_console.print(f"resume with: graftwork train --resume {s['run_id']}", markup=False)
        sys.exit(130)
