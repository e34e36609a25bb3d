"""`graftwork ship`: turn a training run into a model that runs elsewhere."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from graftwork.commands._common import best_or_last, out_console, run_with_progress, workspace_from


@click.command("ship")
@click.option(
    "--run",
    "run_id",
    required=True,
    metavar="ID",
    help="Run id (or a unique prefix); for --to fmadapter an Apple toolkit run (apple-JOB).",
)
@best_or_last
@click.option(
    "--to",
    "target",
    required=True,
    metavar="TARGET",
    help="mlx (fused model folder), gguf (float16 GGUF; llama, mistral, mixtral), "
    "ollama (GGUF + Modelfile) or fmadapter (Apple's toolkit export).",
)
@click.option(
    "--quantize",
    type=int,
    default=None,
    metavar="BITS",
    help="Quantize the fused model to 4 or 8 bits with mlx-lm (--to mlx only).",
)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    help="Destination folder (default runs/ID/ship/TARGET[-qBITS]-best|last).",
)
@click.option("--force", is_flag=True, help="Replace the destination when it exists.")
@click.option(
    "--name",
    default=None,
    help="Ollama model name (default: from the set's name) or .fmadapter name "
    "(default: train.apple.adapter_name, else the set's name).",
)
@click.pass_context
def command(
    ctx: click.Context,
    run_id: str,
    best: bool,
    target: str,
    quantize: int | None,
    out: Path | None,
    force: bool,
    name: str | None,
) -> None:
    """Ship a run: the fused model as an mlx folder (optionally quantized), a GGUF file, an
    Ollama model (GGUF + Modelfile; `ollama create` runs when ollama is installed) or an Apple
    .fmadapter, each with a model card (README.md). The folder is built beside its destination
    and renamed into place; an existing one is replaced only with --force."""
    ws = workspace_from(ctx)
    params = {
        "run_id": run_id,
        "target": target,
        "which": "best" if best else "last",
        "quantize": quantize,
        "out": out,
        "force": force,
        "name": name,
    }
    result = run_with_progress(ws, "ship", params)
    summary = result.summary
    out_console.print(
        f"shipped {summary['run']} as {summary['target']} to {summary['out']}",
        markup=False,
        highlight=False,
    )
    if "ollama_command" in summary:
        if summary.get("ollama_created"):
            out_console.print("ollama create finished", markup=False, highlight=False)
        else:
            out_console.print(
                "ollama is not installed here; to add the model run:\n  "
                + summary["ollama_command"],
                markup=False,
                highlight=False,
                soft_wrap=True,
            )
    # a failed `ollama create` was printed by the progress listener (the job's error log)
    sys.exit(result.exit_code)
