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
    view: str = ""  # "module:factory"; factory(ws) -> recipes.views.RecipeView ("" = none yet)
    # What `graftwork eval` checks in generated answers beside loss and perplexity: metric
    # set names of core/eval/metrics.py (exact_match, tool_calls, contract, widget_code).
    metrics: tuple[str, ...] = ()
    defaults: dict[str, Any] = field(default_factory=dict, hash=False)  # project defaults
    # commented lines under `run:` in a new workspace's graftwork.yaml: this recipe's inputs
    # of `graftwork run` ("" = the Übersicht example)
    run_hint: str = ""

    def example_provider(self, ws: Any) -> Any:
        module, _, attr = self.examples.partition(":")
        return getattr(importlib.import_module(module), attr)(ws)

    def item_view(self, ws: Any) -> Any:
        """The workstation's view of this recipe's items (recipes/views.py), or None."""
        if not self.view:
            return None
        module, _, attr = self.view.partition(":")
        return getattr(importlib.import_module(module), attr)(ws)


# name -> module that defines RECIPE
RECIPE_MODULES: dict[str, str] = {
    "uebersicht": "graftwork.core.recipes.uebersicht",
    "import": "graftwork.core.recipes.imported",
    "plan": "graftwork.core.recipes.plan",
    "readmes": "graftwork.core.recipes.readmes",
    "buckets": "graftwork.core.recipes.buckets",
    "templates": "graftwork.core.recipes.templates",
}


def unknown_recipe(name: object) -> str:
    """The one message for a recipe name that is not known."""
    return f"unknown recipe {name!r}; known: {', '.join(sorted(RECIPE_MODULES))}"


def recipe_module(name: str) -> Any:
    """The module defining recipe ``name``: RECIPE, and optionally ``starter_files(ws) ->
    list[str]`` (files `graftwork init --recipe NAME` puts in a new workspace)."""
    from graftwork.core.base.errors import ConfigError

    module = RECIPE_MODULES.get(name)
    if module is None:
        raise ConfigError(unknown_recipe(name))
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:  # a missing dependency inside the recipe: a real bug
            raise
        raise ConfigError(f"recipe {name!r} is not available in this build ({module})") from None


def get_recipe(name: str) -> Recipe:
    return recipe_module(name).RECIPE


def available_recipes() -> list[Recipe]:
    """Every recipe whose module is present, in RECIPE_MODULES order."""
    from graftwork.core.base.errors import ConfigError

    found = []
    for name in RECIPE_MODULES:
        try:
            found.append(get_recipe(name))
        except ConfigError:
            continue
    return found


def all_recipes() -> list[Recipe]:
    return [get_recipe(name) for name in RECIPE_MODULES]


def workspace_recipe_name(ws: Any) -> str:
    """The recipe a workspace names in graftwork.yaml (`recipe: NAME`), else the default. The
    config reader checks it is a name; an unknown one is a ConfigError naming the file and
    listing the known recipes (checked here: config does not import the recipe registry)."""
    from graftwork.core.base.config import workspace_settings
    from graftwork.core.base.errors import ConfigError

    name = workspace_settings(ws).get("recipe")
    if name and name not in RECIPE_MODULES:
        raise ConfigError(f"{ws.config_path}: key 'recipe': {unknown_recipe(name)}")
    return name or DEFAULT_RECIPE


def workspace_recipe(ws: Any) -> Recipe:
    return get_recipe(workspace_recipe_name(ws))


def example_provider(ws: Any) -> Any:
    """The workspace recipe's ExampleProvider (graftwork.core.sources.base): what budget, build,
    the workstation's token gauge and the teacher ask for examples."""
    return workspace_recipe(ws).example_provider(ws)
