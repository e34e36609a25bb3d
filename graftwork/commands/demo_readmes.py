"""The readmes recipe's demo (`graftwork demo --recipe readmes`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from graftwork.commands._common import err_console, out_console, progress_listener
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.jobs import Job, StageResult, run_job
from graftwork.core.base.workspace import Workspace


def run_demo(target: Path, *, train: bool = True) -> int:
    from graftwork import wiring
    from graftwork.core.sources.readmes import demo
    from graftwork.core.sources.readmes.chunks import chunk_stage
    from graftwork.core.sources.readmes.records import records_stage
    from graftwork.core.sources.readmes.status import dashboard

    ws, sources = demo.prepare(target)
    out_console.print(
        f"demo (readmes): {len(sources)} sample repositories in {ws.root / 'sample-repos'}",
        markup=False,
        highlight=False,
    )
    name = demo.SET_NAME
    steps: list[tuple[str, Callable[[Job], StageResult]]] = [
        ("collect", lambda job: wiring.collect(ws, sources=sources, job=job)),
        ("chunk", lambda job: chunk_stage(ws, job=job)),
        ("instruct", lambda job: wiring.instruct(ws, overrides={"dry_run": True}, job=job)),
        ("budget", lambda job: wiring.budget(ws, job=job)),
        ("build", lambda job: wiring.build(ws, name, force=True, job=job)),
        ("records", lambda job: records_stage(ws, set_name=name, job=job)),
    ]
    if train:
        steps.append(("train", lambda job: wiring.demo_train(ws, name, job=job)))
    failed = False
    for kind, work in steps:
        try:
            with ws.catalog() as db, progress_listener(kind) as listen:
                result = run_job(db, kind, work, {"demo": True}, [listen])
        except GraftworkError as exc:
            err_console.print(f"error: {kind}: {exc}", markup=False, highlight=False)
            return exc.exit_code
        failed = failed or bool(result.failed)
    _summary(ws, dashboard)
    return 1 if failed else 0


def _summary(ws: Workspace, dashboard: Callable) -> None:
    with ws.catalog() as db:
        rows = dashboard(ws, db)
    out_console.print(f"\nDemo workspace {ws.root}", markup=False, highlight=False)
    for phase, counts in rows:
        out_console.print(f"  {phase:<12} {counts}", markup=False, highlight=False)
    out_console.print(
        "  next: graftwork -w WS readme --run RUN FOLDER (write a README for a folder)",
        markup=False,
        highlight=False,
    )


def main(target: Path, train: bool = True) -> None:
    sys.exit(run_demo(target, train=train))
