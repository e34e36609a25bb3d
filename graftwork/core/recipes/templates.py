"""The `templates` recipe (seed 004): Alpaca records ``{"instruction", "input", "output",
"meta"}`` from spec templates over a word list (derived values through our Jinja2 filters),
each checked against a draft-07 schema, with train/val/test splits that never share a word."""

from __future__ import annotations

import shutil
from typing import Any

from graftwork.core.recipes import Column, Recipe
from graftwork.core.stages import Param, StageSpec, declare

declare(
    StageSpec(
        name="templates",
        label="templates",
        fn="graftwork.wiring:templates",
        params=(Param("spec", str, help="The spec YAML (default: spec.yaml in the workspace)."),),
        reads=("spec.yaml",),
        writes=("items", "import_examples", "data/processed/templates/"),
        help="Generate Alpaca records from the spec's templates and word list.",
    )
)

RECIPE = Recipe(
    name="templates",
    summary="Spec templates over a word list -> schema-checked Alpaca records and splits.",
    source="import",
    stages=("templates", "budget", "build"),
    example_shape="alpaca",
    set_format="chat",
    formats=("alpaca", "mlx-chat", "apple"),
    columns=(
        Column("category", "category", 16),
        Column("style", "style", 8),
        Column("separator", "separator", 9),
        Column("rules", "rules", 14),
        Column("instruction", "instruction"),
    ),
    examples="graftwork.core.rules.provider:provider",
    view="graftwork.core.rules.view:templates_view",
    metrics=("exact_match",),
    run_hint="#   set: templates-v1   (inputs of `graftwork run`; the spec is spec.yaml)\n",
)


def starter_files(ws: Any) -> list[str]:
    """What `init --recipe templates` puts in a new workspace: the example spec and words."""
    from graftwork.core.base.config import shipped_data

    data = shipped_data("templates")  # data/templates, or graftwork/_templates in a wheel
    written = []
    for src, name in ((data / "spelling.yaml", "spec.yaml"), (data / "words.txt", "words.txt")):
        target = ws.root / name
        if not target.exists():
            shutil.copyfile(src, target)
            written.append(name)
    return written
