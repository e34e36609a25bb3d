"""Stage declarations of the plan recipe (see graftwork.core.stages)."""

from __future__ import annotations

from graftwork.core.stages import Param, StageSpec, declare

_TEACH_PARAMS = (
    Param("overrides", dict, {}, help="Teacher settings over graftwork.yaml."),
    Param("limit", int, help="Process the next N prompts."),
    Param("sample", int, help="The first N planned prompts, in the sample area."),
    Param("resume", bool, False, help="Continue the last unfinished run of this stage."),
    Param("fresh", bool, False, help="Do not reuse finished calls of earlier runs."),
)

STAGES = (
    declare(
        StageSpec(
            name="plan",
            label="plan",
            fn="graftwork.core.plan.planner:run_plan",
            params=(
                Param("spec", str, help="The spec YAML (default: spec.yaml in the workspace)."),
            ),
            reads=("spec.yaml",),
            writes=("items", "plan_specs", "plan_items", "data/interim/prompt_plan_<v>.jsonl"),
            help="Expand the spec into planned prompts.",
        )
    ),
    *(
        declare(
            StageSpec(
                name=f"teach.{stage}",
                label=f"teach {stage}",
                fn=f"graftwork.wiring:plan_teach_{stage}",
                params=_TEACH_PARAMS
                + ((Param("gating", str, help="lenient | strict"),) if stage == "refine" else ()),
                reads=("plan_items", "plan_answers", "teacher_calls"),
                writes=(
                    "plan_answers",
                    "plan_gate",
                    "teacher_calls",
                    "teach_runs",
                    "teach_tasks",
                    "data/",
                ),
                record="graftwork.core.teach.config:recorded_params",
                help=help_,
            )
        )
        for stage, help_ in (
            ("drafts", "The teacher answers each planned prompt."),
            ("critiques", "The teacher critiques each draft."),
            ("refine", "Refine answers with issues, then gate them into the dataset."),
        )
    ),
    declare(
        StageSpec(
            name="qa",
            label="qa",
            fn="graftwork.core.plan.qa:run_qa",
            params=(Param("area", str, "main"),),
            reads=("plan_gate",),
            writes=("plan_qa", "data/processed/dataset_<v>_clean.jsonl"),
            help="Remove duplicates, empty/truncated answers, prompt echoes, language mismatches.",
        )
    ),
    declare(
        StageSpec(
            name="split",
            label="split",
            fn="graftwork.core.plan.exports:run_split",
            params=(Param("area", str, "main"),),
            reads=("data/processed/dataset_<v>[_clean].jsonl",),
            writes=("data/processed/splits/", "data/processed/sft/", "eval/suites/"),
            help="Seeded splits, SFT files and the fixed evaluation suite.",
        )
    ),
)
