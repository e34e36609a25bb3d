from __future__ import annotations

import sys
from pathlib import Path

import click

from graftwork.commands._common import err_console, out_console
from graftwork.commands.run import (
    StageFailed,
    Step,
    report_item_failures,
    run_steps,
    stage_counts,
)
from graftwork.core import demo
from graftwork.core.base.jobs import StageResult
from graftwork.core.base.workspace import Workspace


def training_step() -> Step | None:
    """The registry's `train.demo` (wiring.demo_train: a few iterations on a tiny offline
    model), run after the export; a build whose wiring leaves it out ends the demo there."""
    from graftwork import wiring

    if getattr(wiring, "demo_train", None) is None:
        return None
    return Step("train.demo", {"set_name": demo.SET_NAME})


def demo_steps(plan: demo.DemoPlan) -> list[Step]:
    steps = [
        Step("ingest", {"manifest": str(plan.manifest)}),
        Step("analyze"),
        Step("prompts.import", {"directory": plan.prompts_dir}),
        Step("prompts.draft"),
        Step("budget"),
        Step("build", {"set_name": demo.SET_NAME, "force": True}),  # the demo rebuilds its set
        Step(
            "export",
            {"set_name": demo.SET_NAME, "fmt": demo.EXPORT_FORMAT},
            label=f"export {demo.EXPORT_FORMAT}",
        ),
    ]
    if (train := training_step()) is not None:
        steps.append(train)
    return steps


def _line_count(path: Path) -> int:
    if not path.is_file():
        return 0
    return sum(1 for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


def print_summary(ws: Workspace, results: list[tuple[Step, StageResult]]) -> None:
    def say(text: str, **kw: object) -> None:
        out_console.print(text, soft_wrap=True, **kw)  # paths and numbers stay on one line

    say("")
    say(f"[bold]Demo workspace[/] {ws.root}", highlight=False)
    for step, result in results:
        say(f"  {step.title:<20} {stage_counts(result)}", highlight=False, markup=False)
    excluded = demo.over_budget(ws)
    for row in excluded:
        say(
            f"[yellow]over budget, excluded:[/] {row['id']}: {row['total_tokens']} tokens "
            f"(widget code {row['widget_tokens']}) > max {row['max_tokens']}, over by {row['over_by']}",
            highlight=False,
        )
    if skipped := demo.not_jsx(ws):
        say(
            "not JSX, left out of the set: " + ", ".join(f"{i} ({kind})" for i, kind in skipped),
            highlight=False,
            markup=False,
        )
    set_dir = ws.datasets_dir / demo.SET_NAME
    counts = {
        split: _line_count(set_dir / f"{split}.jsonl") for split in ("train", "valid", "test")
    }
    say(
        f"set {demo.SET_NAME}: " + ", ".join(f"{k} {v}" for k, v in counts.items()), highlight=False
    )
    written = sorted({str(p) for _, result in results for p in result.outputs})
    if written:
        say("files written:")
        for path in written:
            say(f"  {path}", highlight=False, markup=False)
    say(
        f"next: graftwork -w {ws.root} tui   (or: graftwork -w {ws.root} export --set demo --format alpaca)",
        highlight=False,
        markup=False,
    )


def open_tui(ws: Workspace) -> None:
    from graftwork.tui.app import run_app

    run_app(ws)


@click.command("demo")
@click.option(
    "--dir",
    "directory",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Where to create the demo workspace (default: data/demo-workspace in a "
    "checkout, else ./graftwork-demo). Re-running reuses it.",
)
@click.option(
    "--no-tui", is_flag=True, help="Print the summary instead of opening the workstation."
)
@click.option(
    "--recipe",
    type=click.Choice(["uebersicht", "readmes", "buckets", "templates"]),
    default="uebersicht",
    show_default=True,
    help="Which sample: Übersicht widgets, the readmes recipe's repositories, or the "
    "buckets/templates recipe's example spec.",
)
def command(directory: Path | None, no_tui: bool, recipe: str) -> None:
    """Create the demo workspace from the bundled sample widgets, run the whole pipeline
    (ingest from file:// URLs, analyze, prompts, budget, build set `demo`, export mlx-chat)
    and open the workstation on it.

    With --recipe readmes: the sample repositories under data/readmes through collect,
    chunk, dry-run instructions, budget, build, records and a short training run. With
    --recipe buckets or templates: the example spec through generate, budget, build, an
    Alpaca export and a short training run (no teacher).

    Example: graftwork demo --dir /tmp/graftwork-demo --no-tui"""
    if recipe == "readmes":
        from graftwork.commands.demo_readmes import main

        main(directory or demo.default_demo_dir(Path.cwd()).with_name("demo-readmes"))
    if recipe in ("buckets", "templates"):
        from graftwork.commands import demo_rules

        demo_rules.main(
            directory or demo.default_demo_dir(Path.cwd()).with_name(f"demo-{recipe}"), recipe
        )
    target = directory or demo.default_demo_dir(Path.cwd())
    plan = demo.prepare(target)
    out_console.print(
        f"demo: {len(plan.widget_ids)} sample widgets served from {plan.manifest.parent}",
        highlight=False,
        markup=False,
    )
    try:
        results = run_steps(plan.ws, demo_steps(plan))
    except StageFailed as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    print_summary(plan.ws, results)
    failed = report_item_failures(results)
    if not no_tui and sys.stdout.isatty():
        open_tui(plan.ws)
    if failed:
        sys.exit(1)
