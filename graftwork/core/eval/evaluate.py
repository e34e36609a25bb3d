"""`graftwork eval --run RUN [--split S | --suite FILE]`: base model and adapter on the same
examples, seed and settings.

For each model: loss and perplexity of the reference answers (mlx-lm's own evaluation, through
the backend port, `review.samples.SampleGenerator`), generation tokens/s, and the recipe's
metrics on its generated answers (`Recipe.metrics`, core/eval/metrics.py).

Resumable (core/eval/progress.py): each generation and loss pass is recorded as it finishes,
so a killed evaluation rerun with the same settings generates only what is missing; a changed
setting starts fresh. Only once every example has both answers are the results written, in
one transaction: the answers as `samples` rows (the review screen shows them side by side,
with each example's values from `eval_items`) and the scores as one evaluation in
`eval_results`; then the Markdown report, runs/<run>/eval_<split or suite>.md (atomic)."""

from __future__ import annotations

import hashlib
import math
from pathlib import Path
from typing import Any

from graftwork.core.base.catalog.txn import write_txn
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.eval import progress, store
from graftwork.core.eval.cases import Cases, loss_records, split_cases, suite_cases
from graftwork.core.eval.metrics import (
    Case,
    Services,
    Values,
    aggregate,
    metric_sets,
    score_answer,
)
from graftwork.core.eval.report import write_report
from graftwork.core.eval.store import Score
from graftwork.core.review.samples import (
    SampleGenerator,
    SampleSettings,
    resolve_run,
    sample_row,
)

DEFAULT_SPLIT = "test"


def _suite_path(ws: Workspace, suite: str) -> Path:
    path = Path(suite).expanduser()
    if not path.is_absolute() and not path.exists() and (ws.root / path).exists():
        return ws.root / path  # relative to the workspace, like the plan's eval/suites/
    return path


def choose_cases(
    ws: Workspace,
    db: Any,
    run: dict[str, Any],
    recipe_name: str,
    split: str | None,
    suite: str | None,
    n: int | None,
) -> Cases:
    """The suite when given; else the split (default test). A plan workspace without either
    uses the plan's fixed suite when `graftwork split` wrote one."""
    if suite is None and split is None and recipe_name == "plan":
        from graftwork.core.base.errors import GraftworkError
        from graftwork.core.plan import evaluate as plan_eval

        try:
            fixed = plan_eval.default_suite(ws, db)
        except GraftworkError:  # no plan (or its spec is gone): the run's test split
            fixed = None
        if fixed is not None and fixed.is_file():
            suite = str(fixed)
    if suite is not None:
        system, refs = "", {}
        if recipe_name == "plan":
            from graftwork.core.plan import evaluate as plan_eval

            system, refs = plan_eval.system_prompt(db), plan_eval.references(db)
        return suite_cases(_suite_path(ws, suite), n=n, system=system, references=refs)
    return split_cases(ws, run["set_name"], split or DEFAULT_SPLIT, n)


def _finite(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


def model_scores(
    which: str,
    loss: dict[str, Any] | None,
    gen: tuple[int, float],
    per_case: list[Values],
    examples: int,
) -> list[Score]:
    scores = []
    if loss is not None:
        value = _finite(loss.get("loss"))
        detail = {k: loss.get(k) for k in ("tokens", "ms", "peak_memory_gb")}
        scores.append(Score(which, "loss", value, int(loss.get("examples") or 0), detail))
        ppl = _finite(math.exp(value)) if value is not None and value < 700 else None
        scores.append(Score(which, "perplexity", ppl, int(loss.get("examples") or 0), detail))
    tokens, ms = gen
    scores.append(
        Score(
            which,
            "tokens_per_sec",
            tokens / (ms / 1000) if ms > 0 else None,
            examples,
            {"tokens": tokens, "ms": round(ms, 1)},
        )
    )
    for metric, (value, n) in aggregate(per_case).items():
        hits = sum(1 for v in per_case if v.get(metric))
        scores.append(Score(which, metric, value, n, {"passed": hits}))
    return scores


def _file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def eval_settings(
    run: dict[str, Any],
    model: str,
    adapter_dir: Path,
    got: Cases,
    settings: SampleSettings,
    config: dict[str, Any],
) -> dict[str, Any]:
    """Everything that decides an evaluation's answers: a rerun continues an unfinished one
    only when all of it is the same."""
    adapter_file = adapter_dir / "adapters.safetensors"
    return {
        "run_id": run["id"],
        "checkpoint": adapter_dir.name,
        "adapter_sha256": _file_sha256(adapter_file),
        "model": model,
        "source": got.source,
        "n": len(got.cases),
        "examples": progress.digest(
            [[c.key, c.item_id, c.messages, c.tools, c.reference] for c in got.cases]
        ),
        "seed": settings.seed,
        "temperature": settings.temperature,
        "max_tokens": settings.max_tokens,
        "mask_prompt": bool(config.get("mask_prompt", True)),
        "max_seq_length": int(config.get("max_seq_length") or 4096),
    }


def store_results(
    db: Any,
    run: dict[str, Any],
    checkpoint: str,
    got: Cases,
    cases: list[Case],
    pending: progress.Pending,
    settings: SampleSettings,
    sets: Any,
) -> list[Score]:
    """The finished evaluation from its recorded generations: samples rows, per-example values
    and scores in one transaction that also forgets the progress rows."""
    missing = [
        c.item_id for c in cases if any(c.key not in pending.samples[m] for m in pending.samples)
    ]
    if missing:
        raise GraftworkError(
            f"the generator ended without answering {len(missing)} example(s) (first "
            f"{missing[0]}); run the evaluation again to continue"
        )
    gen = {"base": [0, 0.0], "adapter": [0, 0.0]}
    values: dict[str, list[Values]] = {"base": [], "adapter": []}
    with write_txn(db):  # the answers, scores and examples appear together or not at all
        if not progress.still_pending(db, pending.eval_id):
            raise GraftworkError(
                f"evaluation {pending.eval_id} was finished or discarded by another process "
                "meanwhile; see `graftwork runs --compare` or run it again"
            )
        items: list[dict[str, Any]] = []
        for case in cases:
            b, a = pending.samples["base"][case.key], pending.samples["adapter"][case.key]
            row = sample_row(
                run["id"],
                case.item_id,
                got.sample_split,
                case.prompt,
                case.reference,
                case.stored_messages,
                b,
                a,
                settings,
                checkpoint,
            )
            sample_id = db["samples"].insert(row).last_pk
            for which, event in (("base", b), ("adapter", a)):
                v = score_answer(sets, case, str(event.get("text") or ""))
                values[which].append(v)
                items.append(
                    {"sample_id": sample_id, "item_id": case.item_id, "model": which, "metrics": v}
                )
                gen[which][0] += int(event.get("tokens") or 0)
                gen[which][1] += float(event.get("ms") or 0.0)
        scores = [
            s
            for which in ("base", "adapter")
            for s in model_scores(
                which, pending.losses.get(which), tuple(gen[which]), values[which], len(cases)
            )
        ]
        store.record_items(db, pending.eval_id, run["id"], items)
        store.record_scores(
            db,
            run["id"],
            checkpoint=checkpoint,
            source=got.source,
            scores=scores,
            eval_id=pending.eval_id,
        )
        progress.clear(db, pending.eval_id)
    return scores


def evaluate_run(
    ws: Workspace,
    run_id: str,
    *,
    settings: SampleSettings,
    split: str | None = None,
    suite: str | None = None,
    generate: SampleGenerator,
    services: Services,
    job: Job,
) -> StageResult:
    from graftwork.core.recipes import workspace_recipe

    settings.check()
    if split is not None and suite is not None:
        from graftwork.core.review.samples import SampleError

        raise SampleError("give --split or --suite, not both")
    if split is not None:
        SampleSettings(split=split).check()
    recipe = workspace_recipe(ws)
    with ws.catalog() as db:
        run, model, adapter_dir = resolve_run(ws, db, run_id, settings.adapter)
        got = choose_cases(ws, db, run, recipe.name, split, suite, settings.n)
        cases = got.cases
        sets = metric_sets(ws, db, recipe.metrics, services)
        config = run.get("config") if isinstance(run.get("config"), dict) else {}
        result = StageResult(failed=list(got.failed))
        for where, cause in got.failed:
            job.item_failed(where, cause)
        doc = eval_settings(run, model, adapter_dir, got, settings, config)
        pending = progress.open_pending(db, run["id"], doc)
        eval_id = pending.eval_id
        if pending.note:  # discarded (a warning: the terminal shows it) or continued
            job.log(pending.note, "info" if pending.resumed else "warning")
        job.set_total(2 * len(cases))  # one step per generation: base, then adapter
        keys = {c.key for c in cases}
        earlier = sum(len(keys & set(pending.samples[m])) for m in ("base", "adapter"))
        if earlier:
            job.advance(earlier, message="finished before")
        job.log(
            f"run {run['id']}: {len(cases)} example(s) from {got.source}, model {model}, "
            f"adapter {adapter_dir.name}, metrics {', '.join(recipe.metrics) or 'loss only'}"
        )
        by_key = {c.key: c for c in cases}

        def on_event(event: dict[str, Any]) -> None:
            kind = event.get("type")
            if kind == "loaded":
                job.log(f"{event['which']} model loaded in {event['ms']:.0f} ms")
            elif kind == "loss":
                progress.record(db, pending, "loss", event["which"], event)
                job.log(
                    f"{event['which']}: loss {event['loss']:.4f} over {event['tokens']} answer "
                    f"tokens of {event['examples']} example(s) in {event['ms']:.0f} ms"
                )
            elif kind == "sample" and event.get("key") in by_key:
                progress.record(db, pending, "sample", event["which"], event)
                job.advance(item_id=by_key[event["key"]].item_id)

        records = loss_records(cases)
        generate(
            model,
            str(adapter_dir),
            [{"key": c.key, "messages": c.messages, "tools": c.tools} for c in cases],
            seed=settings.seed,
            temperature=settings.temperature,
            max_tokens=settings.max_tokens,
            on_event=on_event,
            should_stop=lambda: job.cancelled,
            loss={
                "records": records,
                "mask_prompt": doc["mask_prompt"],
                "max_seq_length": doc["max_seq_length"],
                "skip": sorted(pending.losses),
            }
            if records
            else None,
            skip={m: pending.done(m) for m in ("base", "adapter")},
        )
        job.check_cancelled()
        # Results and report together: a kill before the commit leaves the progress rows (the
        # rerun writes the same report again, same eval id), after it the finished evaluation.
        with write_txn(db):
            scores = store_results(db, run, adapter_dir.name, got, cases, pending, settings, sets)
            report = write_report(ws, db, eval_id)
        result.ok = len(cases)
    result.outputs = [report] if report else []
    table = {s.metric: {} for s in scores}
    for s in scores:
        table[s.metric][s.model] = s.value
    result.summary = {
        "run": run["id"],
        "eval_id": eval_id,
        "source": got.source,
        "examples": result.ok,
        "checkpoint": adapter_dir.name,
        "scores": table,
        "report": str(report) if report else None,
        "continued": earlier,  # generations an interrupted run of it had finished
    }
    return result
