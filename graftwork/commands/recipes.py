"""`graftwork recipes`: the pipelines a workspace can have, one line each."""

from __future__ import annotations

import click


@click.command("recipes")
def command() -> None:
    """List the recipes: name, what it makes, its stages in order.

    A workspace's recipe is chosen with `graftwork init DIR --recipe NAME` and kept in its
    graftwork.yaml; `graftwork run` runs its stages."""
    from graftwork.core.recipes import available_recipes

    recipes = available_recipes()
    width = max((len(r.name) for r in recipes), default=0)
    for recipe in recipes:
        click.echo(f"{recipe.name:<{width}}  {recipe.summary}  [{' > '.join(recipe.stages)}]")
