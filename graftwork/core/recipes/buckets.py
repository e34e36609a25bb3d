"""The `buckets` recipe (seed 003): a spec fills named buckets (tool_core, tool_neg, style,
guardrail, eval, ...) with rule-generated `{"task_type", "instruction", "input", "output"}`
records, one JSONL file per bucket, and puts them in the catalog (as imported examples, so
budget, build, export and train work on them); `graftwork validate` checks any such file."""

from __future__ import annotations

import shutil
from typing import Any

from graftwork.core.recipes import Column, Recipe
from graftwork.core.stages import Param, StageSpec, declare

declare(
    StageSpec(
        name="buckets",
        label="buckets",
        fn="graftwork.core.rules.stage:run_buckets",
        params=(Param("spec", str, help="The spec YAML (default: spec.yaml in the workspace)."),),
        reads=("spec.yaml",),
        writes=("items", "import_examples", "data/processed/buckets/"),
        help="Generate every bucket's records from the spec (rule responders, no teacher).",
    )
)

RECIPE = Recipe(
    name="buckets",
    summary="Spec -> rule-generated tool-call, style and guardrail buckets (no teacher).",
    source="import",
    stages=("buckets", "budget", "build"),
    example_shape="alpaca",
    set_format="chat",
    formats=("alpaca", "mlx-chat", "apple"),
    columns=(
        Column("bucket", "bucket", 14),
        Column("rules", "rules", 18),
        Column("instruction", "instruction"),
    ),
    examples="graftwork.core.sources.imported:provider",
    view="graftwork.core.rules.view:buckets_view",
    metrics=("tool_calls",),
    run_hint="#   set: buckets-v1   (inputs of `graftwork run`; the spec is spec.yaml)\n",
)


def starter_files(ws: Any) -> list[str]:
    """What `init --recipe buckets` puts in a new workspace: the example spec as spec.yaml."""
    from graftwork.core.base.config import configs_dir

    target = ws.root / "spec.yaml"
    if target.exists():
        return []
    shutil.copyfile(configs_dir() / "specs" / "buckets_coding.yaml", target)
    return ["spec.yaml"]
