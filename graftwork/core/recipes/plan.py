"""The `plan` recipe (seed 002): a hand-written spec becomes planned prompts; a teacher
writes, critiques and refines the answers; the gate keeps what honours the spec's contract;
qa cleans, split writes the seed's splits, SFT files and the fixed evaluation suite; build
and export work on the accepted examples (user = planned prompt, assistant = answer)."""

from __future__ import annotations

import shutil
from typing import Any

from graftwork.core.plan import stages as _stages  # noqa: F401  (declares the recipe's stages)
from graftwork.core.recipes import Column, Recipe

RECIPE = Recipe(
    name="plan",
    summary="Spec -> planned prompts -> teacher answers, critiques, refinements -> gated dataset.",
    source="plan",
    stages=(
        "plan",
        "teach.drafts",
        "teach.critiques",
        "teach.refine",
        "qa",
        "split",
        "budget",
        "build",
    ),
    example_shape="chat",
    set_format="chat",
    formats=("mlx-chat", "alpaca", "apple"),
    columns=(
        Column("id", "id", 18),
        Column("category", "category", 14),
        Column("stage", "stage", 10),
        Column("gate", "gate", 24),
        Column("prompt", "prompt"),
    ),
    examples="graftwork.core.sources.plan:PlanExamples",
    view="graftwork.core.plan.view:view",
    metrics=("contract",),
    run_hint="#   set: plan-v1   (inputs of `graftwork run`; the spec is spec.yaml, the\n"
    "#   teacher is set under teacher: above)\n",
)


def starter_files(ws: Any) -> list[str]:
    """What `init --recipe plan` puts in a new workspace: the example spec as spec.yaml and
    its value file (never overwriting a file that is there)."""
    from graftwork.core.base.config import configs_dir

    specs = configs_dir() / "specs"
    written = []
    for src, name in (
        (specs / "travel_guide.yaml", "spec.yaml"),
        (specs / "travel_cities.txt", "travel_cities.txt"),
    ):
        target = ws.root / name
        if not target.exists():
            shutil.copyfile(src, target)
            written.append(name)
    return written
