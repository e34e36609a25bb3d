"""The demos of the rule-generated recipes (`graftwork demo --recipe buckets|templates`):
a workspace with the recipe's starter files (the example spec, and for templates the word
list; shipped as package data), then generate, budget, build and a short training run on
the tiny offline model. No teacher, no network."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from graftwork.commands._common import err_console, out_console, run_with_progress
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.workspace import CONFIG_NAME, Workspace

RULE_RECIPES = ("buckets", "templates")


def set_name(recipe: str) -> str:
    return f"{recipe}-demo"


def drive(ws: Workspace, steps: Iterable[tuple[str, dict[str, Any]]]) -> int:
    """Run declared stages in order with a progress bar each (the same job kinds and side
    effects as the single commands); the exit code: 0, 1 when items failed, or the first
    stage error's code (named with its stage)."""
    failed = False
    for stage, params in steps:
        try:
            result = run_with_progress(ws, stage, params)
        except GraftworkError as exc:
            err_console.print(f"error: {stage}: {exc}", markup=False, highlight=False)
            return exc.exit_code
        failed = failed or bool(result.failed)
    return 1 if failed else 0


def prepare(target: Path, recipe: str) -> Workspace:
    """The demo workspace for ``recipe`` (re-used when it is one), with its starter files.
    A folder that is something else is never taken over."""
    from graftwork.core.recipes import recipe_module, workspace_recipe_name

    target = Path(target).expanduser().resolve()
    if (target / CONFIG_NAME).is_file():
        have = workspace_recipe_name(Workspace(target))
        if have != recipe:
            raise GraftworkError(
                f"{target} is a workspace of recipe {have!r}; give the {recipe} demo "
                "another folder with --dir"
            )
    elif target.exists() and any(target.iterdir()):
        raise GraftworkError(
            f"{target} is not empty and not a demo workspace; choose another folder with --dir"
        )
    ws = Workspace.init(target, recipe)
    recipe_module(recipe).starter_files(ws)  # never overwrites a file that is there
    return ws


def run_demo(target: Path, recipe: str, *, train: bool = True) -> int:
    try:
        ws = prepare(target, recipe)
    except GraftworkError as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False)
        return exc.exit_code
    name = set_name(recipe)
    out_console.print(
        f"demo ({recipe}): the example spec in {ws.root / 'spec.yaml'}",
        markup=False,
        highlight=False,
    )
    steps: list[tuple[str, dict[str, Any]]] = [
        (recipe, {}),
        ("budget", {}),
        ("build", {"set_name": name, "force": True}),
        ("export", {"set_name": name, "fmt": "alpaca"}),
    ]
    if train:
        steps.append(("train.demo", {"set_name": name}))
    code = drive(ws, steps)
    if code in (0, 1):
        out_console.print(
            f"\nDemo workspace {ws.root}: set {name} in datasets/{name}/ (Alpaca export in "
            f"datasets/{name}/export/alpaca/); next: graftwork -w {ws.root} tui",
            markup=False,
            highlight=False,
        )
    return code


def main(target: Path, recipe: str, train: bool = True) -> None:
    sys.exit(run_demo(target, recipe, train=train))
