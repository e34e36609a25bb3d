"""The readmes recipe's demo (`graftwork demo --recipe readmes`)."""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graftwork.commands._common import out_console
from graftwork.commands.demo_rules import drive
from graftwork.core.base.workspace import Workspace


def run_demo(target: Path, *, train: bool = True) -> int:
    from graftwork.core.sources.readmes import demo
    from graftwork.core.sources.readmes.status import dashboard

    ws, sources = demo.prepare(target)
    out_console.print(
        f"demo (readmes): {len(sources)} sample repositories in {ws.root / 'sample-repos'}",
        markup=False,
        highlight=False,
    )
    name = demo.SET_NAME
    # Every step is a declared stage (graftwork.core.stage_list, core/sources/readmes/stages.py),
    # so the demo records the same job kinds and side effects as the single commands.
    steps: list[tuple[str, dict[str, Any]]] = [
        ("collect", {"sources": list(sources)}),
        ("chunk", {}),
        ("teach.instructions", {"overrides": {"dry_run": True}}),
        ("budget", {}),
        ("build", {"set_name": name, "force": True}),
        ("records", {"set_name": name}),
    ]
    if train:
        steps.append(("train.demo", {"set_name": name}))
    code = drive(ws, steps)
    if code not in (0, 1):
        return code
    _summary(ws, dashboard)
    return code


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
