"""The Übersicht recipe: a gallery of desktop widgets -> prompts -> code answers in Apple's
adapter schema (the pipeline graftwork started with).

An item is a widget (downloaded and extracted by ingest, scanned by analyze); its example is
the project's system prompt and tool, the widget's prompt as the user turn and its JSX code as
the assistant turn. The system prompt and tool default to configs/project.yaml.
"""

from __future__ import annotations

from graftwork.core.recipes import Column, Recipe

RECIPE = Recipe(
    name="uebersicht",
    summary="Übersicht widget gallery -> prompt/code examples in Apple's adapter schema",
    source="uebersicht",
    stages=("ingest", "analyze", "prompts.draft", "budget", "build"),
    example_shape="chat+tools",  # system carrying the tool, user prompt, assistant code
    set_format="apple",
    formats=("apple", "mlx-chat", "alpaca"),
    validation=("apple",),  # every line build writes passes core/apple/schema.py
    columns=(  # the workstation's widget table (minimum widths; ID and Name grow with the terminal)
        Column("id", "ID", 10),
        Column("name", "Name", 8),
        Column("category", "Category", 8),
        Column("kind", "Kind", 6),
        Column("download", "DL", 3),
        Column("prompt", "Prompt", 8),
        Column("tokens", "Tokens", 7),
        Column("action", "Budget", 7),
        Column("decision", "Decision", 10),
    ),
    examples="graftwork.core.sources.uebersicht:provider",
    metrics=("widget_code",),
)
