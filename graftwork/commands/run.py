"""`graftwork run`: every pipeline stage in order over one workspace.

A stage-level failure (an exception, a bad config) stops the run at once, naming the stage;
item failures are reported and the run goes on, ending with exit code 1. `graftwork demo`
drives the same machinery with a longer list of stages."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from graftwork.commands._common import err_console, out_console, progress_listener, workspace_from
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.jobs import Job, StageResult, run_job
from graftwork.core.base.workspace import Workspace


@dataclass
class Stage:
    name: str  # shown to the user
    work: Callable[[Job], StageResult]
    params: dict[str, Any] = field(default_factory=dict)
    kind: str = ""  # job kind in the catalog, as the single-stage command records it

    def job_kind(self) -> str:
        return self.kind or self.name.replace(" ", "-")


class StageFailed(GraftworkError):
    """A whole stage failed; the pipeline stops here."""

    def __init__(self, stage: str, exc: BaseException) -> None:
        super().__init__(f"stage '{stage}' failed: {exc}")
        self.stage = stage
        self.exit_code = exc.exit_code if isinstance(exc, GraftworkError) else 1


# -- the stages (other areas' code is imported when the stage runs) --------------------------


def ingest_stage(ws: Workspace, manifest: str) -> Stage:
    def work(job: Job) -> StageResult:
        from graftwork.wiring import ingest

        return ingest(ws, manifest, job=job)

    return Stage("ingest", work, {"manifest": manifest})


def analyze_stage(ws: Workspace) -> Stage:
    def work(job: Job) -> StageResult:
        from graftwork.core.analyze.analyze import analyze

        return analyze(ws, job=job)

    return Stage("analyze", work)


def prompts_import_stage(ws: Workspace, directory: Path) -> Stage:
    def work(job: Job) -> StageResult:
        from graftwork.core.prompts.prompts import import_dir

        return import_dir(ws, directory, job=job)

    return Stage("prompts import", work, {"directory": str(directory)}, kind="prompts.import")


def prompts_draft_stage(ws: Workspace) -> Stage:
    def work(job: Job) -> StageResult:
        from graftwork.core.prompts.prompts import draft_missing

        return draft_missing(ws, job=job)

    return Stage("prompts draft", work, kind="prompts.draft")


def budget_stage(ws: Workspace) -> Stage:
    def work(job: Job) -> StageResult:
        from graftwork.wiring import budget

        return budget(ws, job=job)

    return Stage("budget", work)


def build_stage(ws: Workspace, set_name: str, force: bool) -> Stage:
    def work(job: Job) -> StageResult:
        from graftwork.wiring import build

        return build(ws, set_name, force=force, job=job)

    return Stage("build", work, {"set": set_name, "force": force})


def export_stage(ws: Workspace, set_name: str, fmt: str) -> Stage:
    def work(job: Job) -> StageResult:
        from graftwork.core.dataset.exporters import export_set

        return export_set(ws, set_name, fmt, job=job)

    return Stage(f"export {fmt}", work, {"set": set_name, "format": fmt}, kind="export")


def pipeline(ws: Workspace, manifest: str, set_name: str, force: bool) -> list[Stage]:
    return [
        ingest_stage(ws, manifest),
        analyze_stage(ws),
        prompts_draft_stage(ws),
        budget_stage(ws),
        build_stage(ws, set_name, force),
    ]


# -- running -------------------------------------------------------------------------------------


def stage_counts(result: StageResult) -> str:
    """ "3 ok, 1 skipped, 2 failed" (zero counts left out)."""
    text = f"{result.ok} ok"
    if result.skipped:
        text += f", {len(result.skipped)} skipped"
    if result.failed:
        text += f", {len(result.failed)} failed"
    return text


def run_stages(ws: Workspace, stages: list[Stage]) -> list[tuple[Stage, StageResult]]:
    """Run ``stages`` in order with a progress bar each; raise StageFailed at the first
    stage-level failure. Returns every stage with its result."""
    done: list[tuple[Stage, StageResult]] = []
    for number, stage in enumerate(stages, 1):
        started = time.monotonic()
        with ws.catalog() as db:
            try:
                with progress_listener(f"[{number}/{len(stages)}] {stage.name}") as listen:
                    result = run_job(db, stage.job_kind(), stage.work, stage.params, [listen])
            except Exception as exc:  # Ctrl-C (KeyboardInterrupt) is not caught: it aborts the run
                raise StageFailed(stage.name, exc) from exc
        seconds = time.monotonic() - started
        mark = "[yellow]![/]" if result.failed else "[green]✓[/]"
        out_console.print(f"{mark} {stage.name}: {stage_counts(result)} ({seconds:.1f}s)")
        done.append((stage, result))
    return done


def report_item_failures(results: list[tuple[Stage, StageResult]]) -> int:
    """Print every item failure under its stage; return how many there were."""
    total = sum(len(r.failed) for _, r in results)
    if total:
        err_console.print(f"{total} item(s) failed:", style="red")
        for stage, result in results:
            for item, cause in result.failed:
                err_console.print(
                    f"  {stage.name}: {item}: {cause}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
    return total


@click.command("run")
@click.option(
    "--manifest",
    required=True,
    metavar="PATH_OR_URL",
    help="Gallery manifest: a path, file:// or http(s) URL.",
)
@click.option(
    "--set",
    "set_name",
    required=True,
    metavar="NAME",
    help="Name of the set to build (datasets/NAME).",
)
@click.option("--force", is_flag=True, help="Rebuild the set even if it exists.")
@click.pass_context
def command(ctx: click.Context, manifest: str, set_name: str, force: bool) -> None:
    """Run every stage in order: ingest, analyze, prompts draft, budget, build.

    Stops at the first stage that fails as a whole (exit 2 for a configuration error, else 1);
    item failures are reported at the end (exit 1).

    Example: graftwork run --manifest widgets.json --set widgets-v1"""
    ws = workspace_from(ctx)
    try:
        results = run_stages(ws, pipeline(ws, manifest, set_name, force))
    except StageFailed as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    failed = report_item_failures(results)
    out_console.print(
        f"set {set_name}: {ws.datasets_dir / set_name}", markup=False, highlight=False
    )
    if failed:
        sys.exit(1)
