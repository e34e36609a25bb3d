"""The stage registry: every pipeline stage is declared here once.

A declaration names the stage, the job kind it records, a label for people, its parameters,
what it reads and writes, and its function (``"module:attr"``, imported when the stage runs so
`graftwork --help` and the workstation start fast). The CLI commands, `graftwork run`,
`graftwork demo` and every workstation action start stages through `run_stage`, so a stage
records the same job kind and has the same side effects whichever interface started it.

A stage function has the signature ``fn(ws, *, job, **params) -> StageResult``; adapters it
needs (fetchers, token counters, the trainer) are bound in `graftwork.wiring`, whose functions
are what the declarations point at when a stage talks to the outside.

Adding a stage is one `declare(...)` call here (or in a recipe module) plus its function.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Param:
    name: str
    type: type = str
    default: Any = None
    required: bool = False
    help: str = ""


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
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    @property
    def job_kind(self) -> str:
        return self.kind or self.name

    def resolve(self) -> Callable[..., Any]:
        module, _, attr = self.fn.partition(":")
        return getattr(importlib.import_module(module), attr)


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


def _load_declarations() -> None:
    """Stage declarations live in graftwork.core.stage_list (and recipe modules)."""
    importlib.import_module("graftwork.core.stage_list")
