"""The stage registry: every pipeline stage is declared here once.

A declaration names the stage, the job kind it records, a label for people, its parameters,
what it reads and writes, and its function (``"module:attr"``, imported when the stage runs so
`graftwork --help` and the workstation start fast). The CLI commands, `graftwork run`,
`graftwork demo` and every workstation action start stages through `run_stage`, so a stage
records the same job kind and has the same side effects whichever interface started it.

A stage function has the signature ``fn(ws, *, job, **params) -> StageResult``; adapters it
needs (fetchers, token counters, the trainer) are bound in `graftwork.wiring`, whose functions
are what the declarations point at when a stage talks to the outside.

Adding a stage is one `declare(...)` in graftwork/core/stage_list.py plus its function.
"""

from __future__ import annotations

import copy
import importlib
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from graftwork.core.base.errors import GraftworkError

TEACHER_RECORD = "graftwork.core.teach.config:recorded_params"


@dataclass(frozen=True)
class Param:
    name: str  # keyword the stage function takes, and the key recorded in the job's params
    type: type = str  # str, int, float, bool, Path, list (of str), dict
    default: Any = None
    required: bool = False
    help: str = ""
    flag: str = ""  # CLI spelling; "" means --name-with-dashes
    metavar: str = ""  # what the flag's value looks like in --help
    pipeline: bool = False  # an input `graftwork run` takes (from a flag or graftwork.yaml run:)
    # the key in graftwork.yaml's `run:` section when it is not the flag's name (a repeatable
    # flag reads best singular, `--source`, its list plural, `run: {sources: [...]}`)
    key: str = ""
    # values are files or folders (a list param: each entry; URLs are left as they are): a
    # relative one in graftwork.yaml is relative to the workspace, not to the current folder
    paths: bool = False

    @property
    def cli_flag(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    @property
    def config_key(self) -> str:
        """The key in graftwork.yaml's `run:` section: ``key``, else the flag without dashes
        (--set: set)."""
        return self.key or self.cli_flag.lstrip("-").replace("-", "_")

    def default_value(self) -> Any:
        # a fresh copy each time: a list or dict default must not be shared between jobs
        return copy.deepcopy(self.default)


@dataclass(frozen=True)
class StageSpec:
    name: str  # registry key and CLI spelling, e.g. "prompts.draft"
    label: str  # shown to people, e.g. "prompts draft"
    fn: str  # "package.module:function"; fn(ws, *, job, **params) -> StageResult
    kind: str = ""  # job kind recorded in the catalog; defaults to name
    params: tuple[Param, ...] = ()
    reads: tuple[str, ...] = ()  # catalog tables / workspace files it reads
    writes: tuple[str, ...] = ()  # catalog tables / workspace files it writes
    help: str = ""
    # "module:function" mapping the params to what the job records (e.g. a URL without its
    # credentials); "" records the params as given
    record: str = ""
    # names of params of which `graftwork run` needs at least one (collect: a folder, a list
    # file or an awesome list); the stage itself says what it misses when started directly
    one_of: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def job_kind(self) -> str:
        return self.kind or self.name

    @property
    def calls_teacher(self) -> bool:
        """A stage that sends calls to the teacher (paid, unless dry-run): its jobs record
        the teacher's endpoint without credentials, which is how every teacher stage is
        declared."""
        return self.record == TEACHER_RECORD

    def resolve(self) -> Callable[..., Any]:
        return _resolve(self.fn)

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(f"stage {self.name!r} has no parameter {name!r}")

    def bind(self, params: dict[str, Any] | None) -> dict[str, Any]:
        """Every declared parameter: the given value, else its default. An undeclared name is a
        programming error; a missing required one is the caller's (StageInputError)."""
        given = dict(params or {})
        if unknown := sorted(set(given) - {p.name for p in self.params}):
            raise TypeError(f"stage {self.name!r} takes no parameter(s) {', '.join(unknown)}")
        bound: dict[str, Any] = {}
        for p in self.params:
            value = given[p.name] if p.name in given else p.default_value()
            if p.required and value in (None, "", [], ()):
                raise StageInputError(self, p)
            bound[p.name] = value
        return bound

    def recorded(self, bound: dict[str, Any]) -> dict[str, Any]:
        return _resolve(self.record)(bound) if self.record else bound


def _resolve(path: str) -> Callable[..., Any]:
    module, _, attr = path.partition(":")
    return getattr(importlib.import_module(module), attr)


class StageInputError(GraftworkError):
    """A stage was started without an input it needs (a usage error: exit code 2)."""

    exit_code = 2

    def __init__(self, spec: StageSpec, param: Param) -> None:
        super().__init__(f"{spec.label} needs {param.cli_flag} ({param.help or param.name})")
        self.stage = spec.name
        self.param = param


STAGES: dict[str, StageSpec] = {}


def declare(spec: StageSpec) -> StageSpec:
    if spec.name in STAGES and STAGES[spec.name] != spec:
        raise ValueError(f"stage {spec.name!r} is declared twice")
    STAGES[spec.name] = spec
    return spec


def get_stage(name: str) -> StageSpec:
    _load_declarations()
    try:
        return STAGES[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}; known: {', '.join(sorted(STAGES))}") from None


def all_stages() -> Iterable[StageSpec]:
    _load_declarations()
    return STAGES.values()


def pipeline_params() -> dict[str, Param]:
    """The inputs `graftwork run` takes, by parameter name: every declared stage parameter
    marked ``pipeline`` (one name means one input, whichever stage takes it).

    In a fixed order (the recipes' stages in RECIPE_MODULES order, then any other stage by
    name), never the order modules happened to be imported in: `run --help` and
    docs/cli.md must not change with it."""
    from graftwork.core.recipes import available_recipes

    specs = list(all_stages())
    by_name = {spec.name: spec for spec in specs}
    ordered = [by_name[name] for r in available_recipes() for name in r.stages if name in by_name]
    ordered += sorted(specs, key=lambda spec: spec.name)
    found: dict[str, Param] = {}
    for spec in ordered:
        for p in spec.params:
            if p.pipeline:
                seen = found.setdefault(p.name, p)
                if (seen.cli_flag, seen.config_key, seen.type) != (
                    p.cli_flag,
                    p.config_key,
                    p.type,
                ):
                    raise ValueError(f"pipeline input {p.name!r} is declared two ways")
    return found


def _load_declarations() -> None:
    """Stage declarations live in graftwork.core.stage_list, and a recipe's own stages in the
    modules its recipe module imports (e.g. core/plan/stages.py): load every recipe present."""
    importlib.import_module("graftwork.core.stage_list")
    from graftwork.core.recipes import available_recipes

    available_recipes()


def run_stage(
    ws: Any,
    name: str,
    params: dict[str, Any] | None = None,
    listeners: Iterable[Any] = (),
    cancel_event: threading.Event | None = None,
    db: Any = None,
) -> Any:  # -> StageResult
    """Run the declared stage ``name`` as a Job of its declared kind: the one way every
    interface (CLI command, `run`, `demo`, workstation) starts a stage.

    ``params`` are checked against the declaration and completed with its defaults; the job
    records them (through the stage's ``record`` mapping). ``db``: the calling thread's
    catalog connection, else one is opened here and closed after the job."""
    from graftwork.core.base.jobs import run_job

    spec = get_stage(name)
    bound = spec.bind(params)
    fn = spec.resolve()

    def run(conn: Any) -> Any:
        return run_job(
            conn,
            spec.job_kind,
            lambda job: fn(ws, job=job, **bound),
            spec.recorded(bound),
            listeners,
            cancel_event,
        )

    if db is not None:
        return run(db)
    with ws.catalog() as own:
        return run(own)
