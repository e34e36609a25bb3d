"""`graftwork eval --run RUN [--split S | --suite FILE]`: base model and adapter on the same
examples, seed and settings.

For each model: loss and perplexity of the reference answers (mlx-lm's own evaluation, through
the backend port, `review.samples.SampleGenerator`), generation tokens/s, and the recipe's metrics on its generated answers
(`Recipe.metrics`, core/eval/metrics.py). The answers are `samples` rows (so the review screen
shows them side by side, with each example's values from `eval_items`); the scores are one
evaluation in `eval_results` (written in one transaction at the end: a killed evaluation
leaves no scores) and a Markdown report, runs/<run>/eval_<split or suite>.md."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from graftwork.core.base.catalog.txn import write_txn
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.eval import store
from graftwork.core.eval.cases import Cases, loss_records, split_cases, suite_cases
from graftwork.core.eval.metrics import Services, Values, aggregate, metric_sets, score_answer
from graftwork.core.eval.report import write_report
from graftwork.core.eval.store import Score
from graftwork.core.review.samples import (
    SampleGenerator,
    SampleSettings,
    pair_events,
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
        job.set_total(len(cases))
        job.log(
            f"run {run['id']}: {len(cases)} example(s) from {got.source}, model {model}, "
            f"adapter {adapter_dir.name}, metrics {', '.join(recipe.metrics) or 'loss only'}"
        )
        by_key = {c.key: c for c in cases}
        eval_id = store.new_eval_id(run["id"])
        losses: dict[str, dict[str, Any]] = {}
        gen = {"base": [0, 0.0], "adapter": [0, 0.0]}
        values: dict[str, list[Values]] = {"base": [], "adapter": []}
        items: list[dict[str, Any]] = []

        def on_pair(key: str, b: dict[str, Any], a: dict[str, Any]) -> None:
            case = by_key[key]
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
                adapter_dir.name,
            )
            sample_id = db["samples"].insert(row).last_pk
            for which, event in (("base", b), ("adapter", a)):
                answer = str(event.get("text") or "")
                v = score_answer(sets, case, answer)
                values[which].append(v)
                items.append(
                    {"sample_id": sample_id, "item_id": case.item_id, "model": which, "metrics": v}
                )
                gen[which][0] += int(event.get("tokens") or 0)
                gen[which][1] += float(event.get("ms") or 0.0)
            result.ok += 1
            job.advance(item_id=case.item_id)

        pairs = pair_events(job, on_pair)

        def on_event(event: dict[str, Any]) -> None:
            if event.get("type") == "loss":
                losses[event["which"]] = event
                job.log(
                    f"{event['which']}: loss {event['loss']:.4f} over {event['tokens']} answer "
                    f"tokens of {event['examples']} example(s) in {event['ms']:.0f} ms"
                )
                return
            pairs(event)

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
                "mask_prompt": bool(config.get("mask_prompt", True)),
                "max_seq_length": int(config.get("max_seq_length") or 4096),
            }
            if records
            else None,
        )
        job.check_cancelled()
        scores = [
            s
            for which in ("base", "adapter")
            for s in model_scores(
                which, losses.get(which), tuple(gen[which]), values[which], result.ok
            )
        ]
        with write_txn(db):  # the scores and their examples appear together or not at all
            store.record_items(db, eval_id, run["id"], items)
            store.record_scores(
                db,
                run["id"],
                checkpoint=adapter_dir.name,
                source=got.source,
                scores=scores,
                eval_id=eval_id,
            )
        report = write_report(ws, db, eval_id)
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
    }
    return result
