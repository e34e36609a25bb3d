from __future__ import annotations

from pathlib import Path

import click

from graftwork.core.base.workspace import Workspace


@click.command("init")
@click.argument("directory", required=False, type=click.Path(file_okay=False), default=".")
@click.option(
    "--recipe",
    default=None,
    metavar="NAME",
    help="The workspace's pipeline (default: uebersicht; `graftwork recipes` lists them).",
)
def command(directory: str, recipe: str | None) -> None:
    """Create a new workspace in DIRECTORY (default: here): graftwork.yaml (with its recipe),
    graftwork.db, downloads/, prompts/, datasets/, runs/. Safe to run again: nothing is
    overwritten.

    Example: graftwork init my-set --recipe import"""
    from graftwork.core.base.errors import ConfigError
    from graftwork.core.recipes import DEFAULT_RECIPE, recipe_module, workspace_recipe_name

    # an unknown name is one error listing the known ones, before anything is written
    module = recipe_module(recipe or DEFAULT_RECIPE)
    existing = Workspace(Path(directory).expanduser().resolve())
    if existing.config_path.is_file():
        have = workspace_recipe_name(existing)
        if recipe is not None and recipe != have:
            raise ConfigError(
                f"{existing.root} is already a workspace with recipe {have!r}; "
                f"choose another folder for a {recipe!r} workspace"
            )
    ws = Workspace.init(Path(directory), recipe or DEFAULT_RECIPE, module.RECIPE.run_hint)
    starter = getattr(module, "starter_files", None)
    if starter is not None and workspace_recipe_name(ws) == module.RECIPE.name:
        for name in starter(ws):  # never overwrites a file that is there
            click.echo(f"wrote {name}")
    click.echo(f"workspace ready at {ws.root} (recipe {workspace_recipe_name(ws)})")
