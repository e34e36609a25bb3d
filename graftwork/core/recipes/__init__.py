"""Recipes: one pipeline each (its source, its stages in order, the shape of its examples,
its defaults, formats and validation). A workspace names its recipe in graftwork.yaml
(`recipe: NAME`, default `uebersicht`); `graftwork recipes` lists them; `graftwork run` runs
the workspace recipe's stages in order.

Each recipe is declared in its own module under this package (uebersicht.py, imported.py, ...)
and registered in `RECIPE_MODULES`; a module is imported only when its recipe is asked for.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

DEFAULT_RECIPE = "uebersicht"


@dataclass(frozen=True)
class Column:
    """One column of the workstation's item list (widgets keep theirs)."""

    key: str  # field of the row the recipe's item lister returns
    label: str
    width: int | None = None  # None: flexible


@dataclass(frozen=True)
class Recipe:
    name: str
    summary: str  # one line, for `graftwork recipes`
    source: str  # the items.source kind its items carry
    stages: tuple[str, ...]  # stage names (graftwork.core.stages) in run order
    example_shape: str  # "chat" (system/user/assistant), "chat+tools", "alpaca", ...
    set_format: str = "apple"  # how build writes {split}.jsonl: "apple" | "chat"
    formats: tuple[str, ...] = ("apple", "mlx-chat", "alpaca")  # export formats offered
    validation: tuple[str, ...] = ()  # rule names build applies to every line
    columns: tuple[Column, ...] = ()  # the workstation's item list
    examples: str = ""  # "module:factory"; factory(ws) -> sources.base.ExampleProvider
    defaults: dict[str, Any] = field(default_factory=dict, hash=False)  # project defaults

    def example_provider(self, ws: Any) -> Any:
        module, _, attr = self.examples.partition(":")
        return getattr(importlib.import_module(module), attr)(ws)


# name -> module that defines RECIPE
RECIPE_MODULES: dict[str, str] = {
    "uebersicht": "graftwork.core.recipes.uebersicht",
    "import": "graftwork.core.recipes.imported",
    "plan": "graftwork.core.recipes.plan",
    "readmes": "graftwork.core.recipes.readmes",
}


def get_recipe(name: str) -> Recipe:
    module = RECIPE_MODULES.get(name)
    if module is None:
        from graftwork.core.base.errors import ConfigError

        raise ConfigError(f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPE_MODULES))}")
    return importlib.import_module(module).RECIPE


def all_recipes() -> list[Recipe]:
    return [get_recipe(name) for name in RECIPE_MODULES]


def workspace_recipe_name(ws: Any) -> str:
    """The recipe a workspace names in graftwork.yaml (`recipe: NAME`), else the default."""
    from graftwork.core.base.config import workspace_settings

    name = workspace_settings(ws).get("recipe")
    return name or DEFAULT_RECIPE


def workspace_recipe(ws: Any) -> Recipe:
    return get_recipe(workspace_recipe_name(ws))


def example_provider(ws: Any) -> Any:
    """The workspace recipe's ExampleProvider (graftwork.core.sources.base): what budget, build,
    the workstation's token gauge and the teacher ask for examples."""
    return workspace_recipe(ws).example_provider(ws)
