"""Every stage graftwork runs as a job, declared once (see graftwork.core.stages).

The CLI commands, `graftwork run`, `graftwork demo` and the workstation all start these
through `run_stage`, so each records its job kind and has its side effects whichever
interface started it. Functions are named by import path and imported only when the stage
runs. Stages that talk to the outside (downloads, tokenizers, the teacher, mlx, Apple's
toolkit) point at `graftwork.wiring`, which binds the adapters.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from graftwork.core.stages import Param, StageSpec, declare

SET = Param(
    "set_name",
    str,
    required=True,
    flag="--set",
    metavar="NAME",
    help="name of the set (datasets/NAME)",
)

RUN = Param("run_id", str, required=True, flag="--run", help="training run id")
# How base and adapter generate (sample, eval): the same settings give the same text.
GENERATION = (
    Param("n", int),
    Param("seed", int, 0),
    Param("temperature", float, 0.0),
    Param("max_tokens", int, 1024),
    Param("adapter", str, "best"),
)

declare(
    StageSpec(
        "ingest",
        "ingest",
        "graftwork.wiring:ingest",
        params=(
            Param(
                "manifest",
                required=True,
                pipeline=True,
                metavar="PATH_OR_URL",
                help="gallery manifest: a path, file:// or http(s) URL",
            ),
            Param("widgets", list, help="only these widget ids"),
            Param("concurrency", int, help="parallel downloads"),
            Param("refresh", bool, False, help="download again even when unchanged"),
            Param("screenshots", bool, True, help="fetch screenshots"),
        ),
        reads=("manifest",),
        writes=("items", "downloads", "downloads/"),
        help="Download and safely extract the widgets of a gallery manifest.",
    )
)

declare(
    StageSpec(
        "analyze",
        "analyze",
        "graftwork.core.analyze.analyze:analyze",
        reads=("items", "downloads", "downloads/"),
        writes=("analysis", "widget_processing_results.csv"),
        help="Scan downloads into the catalog and write widget_processing_results.csv.",
    )
)

declare(
    StageSpec(
        "prompts.draft",
        "prompts draft",
        "graftwork.core.prompts.prompts:draft_missing",
        reads=("items", "analysis", "prompt_revisions"),
        writes=("prompt_revisions", "widget_processing_results.csv"),
        help="Give every JSX widget without a prompt a template draft.",
    )
)

declare(
    StageSpec(
        "prompts.import",
        "prompts import",
        "graftwork.core.prompts.prompts:import_dir",
        params=(
            Param(
                "directory",
                Path,
                required=True,
                flag="--prompts-dir",
                metavar="DIR",
                pipeline=True,
                help="folder of <id>.prompt files",
            ),
        ),
        reads=("<id>.prompt files", "items", "prompt_revisions"),
        writes=("prompt_revisions", "widget_processing_results.csv"),
        help="Import <id>.prompt files (changed texts become new draft revisions).",
    )
)

declare(
    StageSpec(
        "prompts.export",
        "prompts export",
        "graftwork.core.prompts.prompts:export_dir",
        params=(
            Param("directory", Path, help="output folder (default: the workspace prompts/)"),
            Param("states", tuple, help="only prompts in these states"),
        ),
        reads=("prompt_revisions",),
        writes=("<id>.prompt files",),
        help="Write <id>.prompt for every current prompt.",
    )
)

declare(
    StageSpec(
        "import",
        "import",
        "graftwork.core.sources.imported:import_paths",
        params=(
            Param(
                "paths",
                list,
                required=True,
                flag="--import",
                metavar="FILE_OR_DIR",
                pipeline=True,
                paths=True,
                help="a file or folder of records to import (Alpaca, chat, Apple, ShareGPT)",
            ),
            Param(
                "fmt", str, "auto", flag="--format", help="auto, alpaca, chat, apple or sharegpt"
            ),
        ),
        reads=("JSONL / JSON-array files",),
        writes=("items", "import_examples", "prompt_revisions"),
        help="Import your own dataset (the import recipe).",
    )
)

declare(
    StageSpec(
        "budget",
        "budget",
        "graftwork.wiring:budget",
        params=(
            Param("max_tokens", int, help="token limit per example"),
            Param("widgets_only", bool, False, help="code-only counts of every JSX widget"),
        ),
        reads=("examples", "token_cache"),
        writes=(
            "budget",
            "token_cache",
            "training_data_size_analysis.json",
            "training_data_strategy.json",
        ),
        help="Count tokens of every complete example against max_sequence_length.",
    )
)

declare(
    StageSpec(
        "build",
        "build",
        "graftwork.wiring:build",
        params=(
            replace(SET, pipeline=True),
            Param("force", bool, False, pipeline=True, help="replace an existing set"),
            Param("max_tokens", int, help="token limit per example"),
            Param("reshuffle", bool, False, help="forget the set's recorded splits"),
            Param(
                "example_limit",
                int,
                flag="--limit",
                help="at most N examples (a seeded pick): a dry run or a mini fine-tune",
            ),
            Param("stratify", str, help="category: spread each category over the splits"),
        ),
        reads=("examples", "curation", "budget"),
        writes=("datasets/NAME/", "datasets"),
        help="Build deterministic train/valid/test JSONL in Apple's adapter schema.",
    )
)

declare(
    StageSpec(
        "export",
        "export",
        "graftwork.core.dataset.exporters:export_set",
        params=(
            SET,
            Param("fmt", str, "apple", flag="--format", help="apple, mlx-chat or alpaca"),
            Param("out_dir", Path, flag="--out", help="output folder"),
        ),
        reads=("datasets/NAME/",),
        writes=("datasets/NAME/export/FORMAT/",),
        help="Export a built set as apple, mlx-chat or alpaca data.",
    )
)

declare(
    StageSpec(
        "train",
        "train",
        "graftwork.wiring:train",
        params=(
            Param("set_name", str, flag="--set", help="built set to train on"),
            Param("overrides", dict, {}, help="train settings over graftwork.yaml"),
            Param("resume", str, help="run to continue"),
            Param("drop_long", bool, False, help="drop examples over max_seq_length"),
            Param("config_file", Path, flag="--config", help="a train.yaml to use"),
        ),
        reads=("datasets/NAME/",),
        writes=("runs", "run_metrics", "runs/ID/"),
        help="Train a LoRA adapter on a set with mlx-lm.",
    )
)

# The demo's training: a few iterations on a tiny model built offline. A job like any train.
declare(
    StageSpec(
        "train.demo",
        "train (tiny model)",
        "graftwork.wiring:demo_train",
        kind="train",
        params=(SET,),
        reads=("datasets/NAME/",),
        writes=("models/tiny-demo/", "runs", "run_metrics", "runs/ID/"),
        help="Train a few iterations on a tiny offline model (the demo's last stage).",
    )
)

declare(
    StageSpec(
        "sample",
        "sample",
        "graftwork.wiring:sample",
        params=(
            RUN,
            Param("split", str, "test"),
            *GENERATION,
        ),
        reads=("runs", "datasets/NAME/"),
        writes=("samples",),
        help="Generate from base and adapter for held-out prompts.",
    )
)

declare(
    StageSpec(
        "eval",
        "eval",
        "graftwork.wiring:evaluate",
        params=(
            RUN,
            Param("split", str, help="split of the run's set (default test)"),
            Param("suite", str, help="suite JSONL instead of a split"),
            *GENERATION,
        ),
        reads=("runs", "datasets/NAME/", "eval/suites/"),
        writes=("samples", "eval_results", "eval_items", "runs/<run>/eval_<split|suite>.md"),
        help="Base vs adapter: loss, perplexity, tokens/s and the recipe's metrics.",
    )
)

declare(
    StageSpec(
        "eval.judge",
        "eval judge",
        "graftwork.wiring:eval_judge",
        params=(
            RUN,
            Param("eval_id", str, help="the evaluation to judge (default: the run's newest)"),
            Param("overrides", dict, {}, help="teacher settings over graftwork.yaml"),
            Param("fresh", bool, False),
            Param("resume", bool, False, help="continue the newest unfinished judge run"),
        ),
        reads=("eval_items", "samples", "teacher_calls"),
        writes=("eval_results", "eval_items", "teach_runs", "teacher_calls"),
        record="graftwork.core.teach.config:recorded_params",
        help="The teacher compares base and adapter answers pairwise, in both orders.",
    )
)

declare(
    StageSpec(
        "teach",
        "teacher drafts",
        "graftwork.wiring:teach_prompts",
        params=(
            Param("overrides", dict, {}, help="teacher settings over graftwork.yaml"),
            Param("limit", int),
            Param("widgets", list),
            Param("critique", bool, False),
            Param("refine", bool, False),
            Param("gating", str),
            Param("sample", int),
            Param("resume", bool, False),
            Param("fresh", bool, False),
        ),
        reads=("items", "analysis", "prompt_revisions", "teacher_calls"),
        writes=("prompt_revisions", "teach_runs", "teacher_calls", "teach_samples"),
        record="graftwork.core.teach.config:recorded_params",
        help="Ask a teacher LLM for prompt drafts, critiques and refinements.",
    )
)

declare(
    StageSpec(
        "teach.categories",
        "teacher categories",
        "graftwork.wiring:teach_categories",
        params=(
            Param("overrides", dict, {}, help="teacher settings over graftwork.yaml"),
            Param("limit", int),
            Param("widgets", list),
            Param("sample", int),
            Param("resume", bool, False),
            Param("fresh", bool, False),
        ),
        reads=("items", "analysis", "curation", "teacher_calls"),
        writes=("item_categories", "teach_runs", "teacher_calls", "teach_samples"),
        record="graftwork.core.teach.config:recorded_params",
        help="Ask a teacher LLM for one category per widget (project.categories).",
    )
)

declare(
    StageSpec(
        "apple.train",
        "apple train",
        "graftwork.wiring:apple_train",
        params=(SET, Param("overrides", dict, {}, help="train.apple settings")),
        reads=("datasets/NAME/",),
        writes=("runs/apple-NAME/",),
        help="Run Apple's adapter toolkit (train_adapter, export_fmadapter) on a set.",
    )
)

declare(
    StageSpec(
        "ship",
        "ship",
        "graftwork.wiring:ship",
        params=(
            Param("run_id", str, required=True, flag="--run", help="training run id"),
            Param("target", str, required=True, flag="--to", help="mlx, gguf, ollama or fmadapter"),
            Param("which", str, "best", help="best or last adapter"),
            Param("quantize", int, help="4 or 8 bits (mlx only)"),
            Param("out", Path, help="destination folder"),
            Param("force", bool, False, help="replace an existing destination"),
            Param("name", str, help="Ollama model name or .fmadapter name"),
        ),
        reads=("runs", "runs/ID/adapters/", "datasets/NAME/manifest.json", "readme_repos"),
        writes=("runs/ID/ship/",),
        help="Ship a run as an mlx model, a GGUF file, an Ollama model or an Apple .fmadapter.",
    )
)
