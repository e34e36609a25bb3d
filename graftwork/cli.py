"""The `graftwork` command. Subcommands live one per module in graftwork/commands/ and are
imported only when used, so `graftwork --help` stays fast. Bare `graftwork` in a workspace
opens the TUI.

Exit codes: 0 all good, 1 finished but some items failed, 2 usage or configuration error.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback

import click

from graftwork import __version__
from graftwork.core.base.errors import GraftworkError

# name -> (module under graftwork.commands, one-line help). One line per command.
COMMANDS: dict[str, tuple[str, str]] = {
    "init": ("init", "Create a new workspace."),
    "ingest": ("ingest", "Download and safely extract the widgets of a gallery manifest."),
    "analyze": (
        "analyze",
        "Scan downloads into the catalog and write widget_processing_results.csv.",
    ),
    "prompts": ("prompts", "Draft, import and export prompts (every change is a revision)."),
    "curate": ("curate", "Record a curation decision: include, exclude or needs work."),
    "budget": ("budget", "Count tokens of every complete example against max_sequence_length."),
    "build": ("build", "Build deterministic train/valid/test JSONL in Apple's adapter schema."),
    "export": ("export", "Export a built set as apple, mlx-chat or alpaca data."),
    "run": ("run", "Run the workspace recipe's stages in order (uebersicht: ingest to build)."),
    "recipes": ("recipes", "List the recipes (pipelines) a workspace can have."),
    "demo": ("demo", "Create the demo workspace from data/, run the pipeline and open the app."),
    "tui": ("tui", "Open the workstation (same as bare `graftwork`)."),
    "train": (
        "train",
        "Train a LoRA adapter on a set with mlx-lm (live loss, best checkpoint, resume).",
    ),
    "runs": ("runs", "List training runs; --compare A B shows their eval scores side by side."),
    "fuse": ("fuse", "Fuse a run's adapter into its base model."),
    "ship": ("ship", "Ship a run as an mlx model, GGUF, Ollama model or Apple .fmadapter."),
    "sample": ("sample", "Generate from base and adapter for held-out prompts, side by side."),
    "review": ("review", "Review samples and export a Markdown report."),
    "apple": ("apple", "Commands of Apple's adapter toolkit for a set (print or run)."),
    "doctor": (
        "doctor",
        "Say what this machine can do: platform, MLX backend, model, toolkit, teacher.",
    ),
    "teach": ("teach", "Ask a teacher LLM for prompt drafts, critiques and refinements."),
    "plan": ("plan", "Expand a spec into planned prompts; accept/reject answers by hand (plan)."),
    "qa": ("qa", "Clean the plan recipe's dataset: duplicates, empty, truncated, mismatches."),
    "split": ("split", "Seeded splits, SFT files and the fixed eval suite (plan recipe)."),
    "eval": (
        "eval",
        "Base vs adapter: loss, perplexity, tokens/s, recipe metrics; --judge by the teacher.",
    ),
    "validate": ("validate", "Check JSONL records with named rules (fields, tool calls, tokens)."),
    "buckets": ("buckets", "Generate the buckets recipe's records from its spec."),
    "templates": ("templates", "Generate Alpaca records from spec templates over a word list."),
    "import": ("import_", "Import your own dataset (Alpaca, chat, Apple or ShareGPT records)."),
    "collect": ("collect", "Collect repositories: README, file tree, facts (readmes recipe)."),
    "chunk": ("chunk", "Split collected READMEs into chunks, one item each (readmes recipe)."),
    "records": ("records", "The seed's SFT files (sft_dataset.json, train/test) of a built set."),
    "readme": ("readme", "Write README.generated.md for a folder with a trained readmes adapter."),
    "dashboard": ("dashboard", "The readmes pipeline's phases with their counts."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"graftwork.commands.{COMMANDS[name][0]}")
        return module.command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # Help text comes from the table so listing commands imports nothing.
        with formatter.section("Commands"):
            formatter.write_dl([(name, COMMANDS[name][1]) for name in sorted(COMMANDS)])


@click.group(cls=LazyGroup, invoke_without_command=True)
@click.option(
    "-w",
    "--workspace",
    type=click.Path(file_okay=False),
    default=None,
    help="Workspace folder (else $GRAFTWORK_WORKSPACE, else the nearest parent with graftwork.yaml).",
)
@click.option(
    "--debug",
    is_flag=True,
    help="Show the Python traceback of an error (else one line). Also $GRAFTWORK_DEBUG=1.",
)
@click.version_option(__version__, prog_name="graftwork")
@click.pass_context
def cli(ctx: click.Context, workspace: str | None, debug: bool) -> None:
    """graftwork: curate fine-tuning datasets and grow LoRA adapters from the terminal."""
    ctx.ensure_object(dict)
    ctx.obj["workspace"] = workspace
    ctx.obj["debug"] = debug
    if ctx.invoked_subcommand is None:
        from graftwork.commands.tui import open_tui_or_help

        open_tui_or_help(ctx)


def _debug_wanted(argv: list[str]) -> bool:
    # Read before parsing: the error may come from parsing or from a command's setup.
    options = argv[: argv.index("--")] if "--" in argv else argv
    return "--debug" in options or os.environ.get("GRAFTWORK_DEBUG", "") not in ("", "0")


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    debug = _debug_wanted(args)
    try:
        cli.main(args=args, prog_name="graftwork", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except GraftworkError as exc:
        if debug:
            traceback.print_exc()
        click.echo(f"error: {exc}", err=True)
        sys.exit(exc.exit_code)
    except Exception as exc:
        # The last line of defence: the cause should have been handled where it happened,
        # but the user still gets one line, never a traceback, unless they ask for it.
        from graftwork.core.base import workspace
        from graftwork.core.base.errors import explain

        ws = workspace.last_resolved
        said = explain(exc, ws.db_path if ws is not None else None)
        if debug:
            traceback.print_exc()
        hint = "" if debug or said.known else " (run with --debug for the traceback)"
        click.echo(f"error: {said.line}{hint}", err=True)
        sys.exit(said.exit_code)
    sys.exit(0)
