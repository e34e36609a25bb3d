"""The Übersicht recipe: a gallery of desktop widgets -> prompts -> code answers in Apple's
adapter schema (the pipeline graftwork started with)."""

from __future__ import annotations

from graftwork.core.recipes import Recipe

RECIPE = Recipe(
    name="uebersicht",
    summary="Übersicht widget gallery -> prompt/code examples in Apple's adapter schema",
    source="uebersicht",
    stages=("ingest", "analyze", "prompts.draft", "budget", "build"),
    example_shape="chat+tools",
    set_format="apple",
    validation=("apple",),
    examples="graftwork.core.sources.uebersicht:provider",
)
