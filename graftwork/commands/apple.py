"""`graftwork apple command|train --set NAME`: Apple's adapter toolkit for a built set."""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import click

from graftwork.commands._common import err_console, out_console, run_with_progress, workspace_from

if TYPE_CHECKING:
    from graftwork.core.apple.toolkit import AppleConfig
    from graftwork.core.base.jobs import JobEvent
    from graftwork.core.base.workspace import Workspace


def _settings(f: Callable[..., Any]) -> Callable[..., Any]:
    options = [
        click.option(
            "--set", "set_name", required=True, help="Name of a built set (datasets/NAME)."
        ),
        click.option(
            "--adapter-name",
            default=None,
            help="Name of the .fmadapter (^\\w+$; default: the set name).",
        ),
        click.option("--epochs", type=int, default=None),
        click.option("--learning-rate", type=float, default=None),
        click.option("--batch-size", type=int, default=None),
        click.option(
            "--precision",
            type=click.Choice(["f16-mixed", "bf16-mixed", "f32"]),
            default=None,
            help="Default: f16-mixed on a Mac, bf16-mixed elsewhere.",
        ),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _config(
    ws: Workspace,
    adapter_name: str | None,
    epochs: int | None,
    learning_rate: float | None,
    batch_size: int | None,
    precision: str | None,
) -> AppleConfig:
    from graftwork.core.apple.toolkit import load_apple

    return load_apple(
        ws,
        {
            "adapter_name": adapter_name,
            "epochs": epochs,
            "learning_rate": learning_rate,
            "batch_size": batch_size,
            "precision": precision,
        },
    )


@click.group("apple")
def command() -> None:
    """Apple's Foundation Models adapter toolkit: print or run its commands for a set."""


@command.command("command")
@_settings
@click.pass_context
def print_commands(ctx: click.Context, set_name: str, **flags: Any) -> None:
    """Print the exact train_adapter and export_fmadapter commands for the set."""
    from graftwork.core.apple.toolkit import toolkit_commands

    ws = workspace_from(ctx)
    cfg = _config(ws, **flags)
    out_dir = ws.runs_dir / f"apple-{set_name}"
    for cmd in toolkit_commands(ws, set_name, cfg, out_dir, for_display=True):
        out_console.print(f"# {cmd.label}", markup=False, highlight=False)
        out_console.print(cmd.shell(), markup=False, highlight=False, soft_wrap=True)
    if not cfg.toolkit_dir:
        err_console.print(
            "note: set train.apple.toolkit_dir in graftwork.yaml to let `graftwork apple train` run them"
        )


@command.command("train")
@_settings
@click.pass_context
def train(ctx: click.Context, set_name: str, **flags: Any) -> None:
    """Run the toolkit (train, then export) as a child process; its output lands in a job."""
    from graftwork.core.apple.toolkit import require_toolkit

    ws = workspace_from(ctx)
    require_toolkit(_config(ws, **flags))  # a missing toolkit is said before any job starts

    def echo(event: JobEvent) -> None:  # the toolkit's own output, as it comes
        if event.type == "log" and event.level == "info":
            out_console.print(event.message, markup=False, highlight=False, soft_wrap=True)

    result = run_with_progress(
        ws, "apple.train", {"set_name": set_name, "overrides": flags}, extra=[echo]
    )
    out_console.print(
        f"adapter package: {result.summary['package']}", markup=False, highlight=False
    )
    sys.exit(result.exit_code)
