"""The import recipe: bring your own dataset. `graftwork import FILE_OR_DIR` reads Alpaca,
mlx-lm/OpenAI chat (with tools and tool calls), Apple adapter lines or ShareGPT records into
the catalog; curate, budget, build, export, train and review then work as for widgets.

Sets are written in mlx-lm's chat shape (one {"messages", "tools"} object per line), which
keeps every imported conversation as it was (tool results, OpenAI tool shapes); the Apple
export converts."""

from __future__ import annotations

from graftwork.core.recipes import Column, Recipe

RECIPE = Recipe(
    name="import",
    summary="your own dataset: import Alpaca, chat (with tools), Apple or ShareGPT files",
    source="import",
    stages=("import", "budget", "build"),
    example_shape="chat+tools",
    set_format="chat",
    validation=("chat",),
    columns=(
        Column("id", "id", 12),
        Column("source", "format, file:line", 20),
        Column("user", "user"),
        Column("assistant", "assistant"),
        Column("tokens", "tokens", 6),
        Column("decision", "decision", 9),
    ),
    examples="graftwork.core.sources.imported:provider",
    view="graftwork.core.sources.imported_view:view",
    run_hint="#   import: [data.jsonl, more/]   (inputs of `graftwork run`: --import, --set)\n"
    "#   set: mine-v1\n",
)
