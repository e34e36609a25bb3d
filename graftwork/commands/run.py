"""`graftwork run`: the workspace recipe's stages in order (see graftwork.core.recipes).

Each stage is started through the registry (graftwork.core.stage_list), as its own command
would start it. A stage-level failure (an exception, a bad config) stops the run at once,
naming the stage; item failures are reported and the run goes on, ending with exit code 1.
`graftwork demo` drives the same machinery with a longer list of steps.

The run's inputs are the stage parameters declared ``pipeline``: each is a flag here (its
declared spelling; a list-valued one is a repeatable flag) and may instead be set in
graftwork.yaml's `run:` section (a list there for a list-valued one). Relative paths in
graftwork.yaml are relative to the workspace; on the command line, to the current folder.
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from graftwork.commands._common import err_console, out_console, progress_listener, workspace_from
from graftwork.core.base.errors import ConfigError, GraftworkError
from graftwork.core.base.jobs import StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.stages import Param, StageInputError, get_stage, pipeline_params, run_stage


@dataclass(frozen=True)
class Step:
    """One stage of a run: a declared stage name and the params it gets."""

    stage: str
    params: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # shown to the user; default: the stage's label

    @property
    def title(self) -> str:
        return self.label or get_stage(self.stage).label


class StageFailed(GraftworkError):
    """A whole stage failed; the pipeline stops here."""

    def __init__(self, stage: str, exc: BaseException) -> None:
        super().__init__(f"stage '{stage}' failed: {exc}")
        self.stage = stage
        self.exit_code = exc.exit_code if isinstance(exc, GraftworkError) else 1


# -- the recipe's steps --------------------------------------------------------------------------


def run_inputs(ws: Workspace, flags: dict[str, Any]) -> dict[str, Any]:
    """Pipeline inputs by parameter name: graftwork.yaml's `run:` section, then the flags
    given (None means not given)."""
    from graftwork.core.base.config import workspace_settings

    declared = pipeline_params()
    by_key = {p.config_key: p for p in declared.values()}
    section = workspace_settings(ws).get("run") or {}
    inputs: dict[str, Any] = {}
    for key, value in section.items():
        param = by_key.get(key)
        if param is None:
            raise ConfigError(
                f"{ws.config_path}: unknown key 'run.{key}'; expected some of "
                f"{', '.join(sorted(by_key))}"
            )
        inputs[param.name] = _config_value(ws, key, param, value)
    for name, value in flags.items():
        if value is None or value == ():  # not given (a repeatable flag given no times: ())
            continue
        inputs[name] = list(value) if isinstance(value, tuple) else value
    return inputs


def _config_value(ws: Workspace, key: str, param: Param, value: Any) -> Any:
    if param.type in (list, tuple):
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            raise ConfigError(
                f"{ws.config_path}: key 'run.{key}' must be a list of strings "
                f"(e.g. {key}: [a, b]), got {value!r}"
            )
        return [_config_path(ws, v) if param.paths else v for v in value]
    want = bool if param.type is bool else int if param.type is int else str
    if not isinstance(value, want) or (want is int and isinstance(value, bool)):
        raise ConfigError(
            f"{ws.config_path}: key 'run.{key}' must be a {want.__name__}, got {value!r}"
        )
    if param.type is Path:
        return Path(_config_path(ws, value))
    return _config_path(ws, value) if param.paths else value


def _config_path(ws: Workspace, text: str) -> str:
    """A path written in graftwork.yaml is relative to the workspace; a URL stays as it is."""
    from graftwork.core.sources.readmes.specs import is_remote

    if is_remote(text):
        return text
    path = Path(text).expanduser()
    return str(path if path.is_absolute() else ws.root / path)


def recipe_steps(ws: Workspace, inputs: dict[str, Any]) -> list[Step]:
    """The workspace recipe's stages, each with the inputs it declares. A required input that
    is missing is a usage error naming its flag, said before any stage starts."""
    from graftwork.core.recipes import workspace_recipe

    recipe = workspace_recipe(ws)
    steps = []
    for name in recipe.stages:
        spec = get_stage(name)
        params = {p.name: inputs[p.name] for p in spec.params if p.name in inputs}
        if spec.one_of and not any(params.get(name) for name in spec.one_of):
            wanted = [spec.param(name) for name in spec.one_of]
            raise click.UsageError(
                f"Missing input: stage '{spec.label}' of recipe '{recipe.name}' needs one of "
                f"{', '.join(p.cli_flag + ' ' + (p.metavar or 'VALUE') for p in wanted)} "
                f"(or set {' / '.join('run.' + p.config_key for p in wanted)} in "
                f"{ws.config_path.name})"
            )
        try:
            spec.bind(params)
        except StageInputError as exc:
            raise click.UsageError(
                f"Missing option '{exc.param.cli_flag}': stage '{spec.label}' of recipe "
                f"'{recipe.name}' needs {exc.param.help or exc.param.name} "
                f"(or set run.{exc.param.config_key} in {ws.config_path.name})"
            ) from None
        steps.append(Step(name, params))
    return steps


# -- running -------------------------------------------------------------------------------------


def stage_counts(result: StageResult) -> str:
    """ "3 ok, 1 skipped, 2 failed" (zero counts left out)."""
    text = f"{result.ok} ok"
    if result.skipped:
        text += f", {len(result.skipped)} skipped"
    if result.failed:
        text += f", {len(result.failed)} failed"
    return text


def run_steps(ws: Workspace, steps: list[Step]) -> list[tuple[Step, StageResult]]:
    """Run ``steps`` in order with a progress bar each; raise StageFailed at the first
    stage-level failure. Returns every step with its result."""
    done: list[tuple[Step, StageResult]] = []
    for number, step in enumerate(steps, 1):
        started = time.monotonic()
        try:
            with progress_listener(f"[{number}/{len(steps)}] {step.title}") as listen:
                result = run_stage(ws, step.stage, step.params, [listen])
        except Exception as exc:  # Ctrl-C (KeyboardInterrupt) is not caught: it aborts the run
            raise StageFailed(step.title, exc) from exc
        seconds = time.monotonic() - started
        mark = "[yellow]![/]" if result.failed else "[green]✓[/]"
        out_console.print(f"{mark} {step.title}: {stage_counts(result)} ({seconds:.1f}s)")
        done.append((step, result))
    return done


def report_item_failures(results: list[tuple[Step, StageResult]]) -> int:
    """Print every item failure under its stage; return how many there were."""
    total = sum(len(r.failed) for _, r in results)
    if total:
        err_console.print(f"{total} item(s) failed:", style="red")
        for step, result in results:
            for item, cause in result.failed:
                err_console.print(
                    f"  {step.title}: {item}: {cause}",
                    markup=False,
                    highlight=False,
                    soft_wrap=True,
                )
    return total


def _input_options(fn: Any) -> Any:
    """One option per pipeline input, from the registry (none is required here: which are
    depends on the workspace's recipe, checked in recipe_steps)."""
    for param in reversed(list(pipeline_params().values())):
        text = param.help[:1].upper() + param.help[1:] + "."
        if param.type is bool:
            option = click.option(param.cli_flag, param.name, is_flag=True, default=None, help=text)
        elif param.type in (list, tuple):
            option = click.option(
                param.cli_flag,
                param.name,
                multiple=True,
                metavar=param.metavar or None,
                help=text + " Repeatable.",
            )
        else:
            option = click.option(
                param.cli_flag,
                param.name,
                type={int: int, float: float}.get(param.type, str),
                default=None,
                metavar=param.metavar or None,
                help=text,
            )
        fn = option(fn)
    return fn


def confirm_teacher(ws: Workspace, steps: list[Step], yes: bool) -> None:
    """A run whose recipe calls the teacher says so (model, endpoint, stages) and, on a
    terminal, asks before it starts, as `graftwork teach ...` does; --yes, a dry-run
    teacher or no terminal (scripts, CI) go straight on. A missing API key stops the run
    here, before any stage. The calls' count is only known
    after the stages before them (collect, plan) have run, so none is promised here."""
    teaching = [s for s in steps if get_stage(s.stage).calls_teacher]
    if not teaching:
        return
    from graftwork import wiring

    cfg = wiring.teacher_config(ws)
    if cfg.dry_run:
        return
    cfg.api_key()  # a missing key is said now (ConfigError naming the variable), not mid-run
    err_console.print(
        f"this run asks the teacher {cfg.model} at {cfg.public_base_url()} in "
        f"{', '.join(s.title for s in teaching)}: one call per item (or batch) not done yet; "
        "`graftwork teach ... --estimate` counts them",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    if not yes and sys.stdin.isatty():
        click.confirm("send these calls?", default=True, abort=True, err=True)


@click.command("run")
@_input_options
@click.option("--yes", "-y", is_flag=True, help="Do not ask before a teacher stage sends calls.")
@click.pass_context
def command(ctx: click.Context, yes: bool, **flags: Any) -> None:
    """Run the workspace recipe's stages in order (uebersicht: ingest, analyze, prompts
    draft, budget, build; `graftwork recipes` lists every recipe's). Each recipe takes the
    inputs its stages need; they come from these flags or graftwork.yaml's `run:` section
    (a repeatable flag is a list there; relative paths there are relative to the workspace).

    Stops at the first stage that fails as a whole (exit 2 for a configuration error, else 1);
    item failures are reported at the end (exit 1).

    Examples: graftwork run --manifest widgets.json --set widgets-v1;
    graftwork run --source ~/src/tool --awesome awesome.md --set readmes-v1;
    graftwork run --import data.jsonl --set mine-v1"""
    ws = workspace_from(ctx)
    inputs = run_inputs(ws, flags)
    steps = recipe_steps(ws, inputs)
    confirm_teacher(ws, steps, yes)
    try:
        results = run_steps(ws, steps)
    except StageFailed as exc:
        err_console.print(f"error: {exc}", markup=False, highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    failed = report_item_failures(results)
    if set_name := inputs.get("set_name"):
        out_console.print(
            f"set {set_name}: {ws.datasets_dir / set_name}", markup=False, highlight=False
        )
    if failed:
        sys.exit(1)
