"""`graftwork eval --run RUN [--suite FILE]`: the fixed evaluation suite through the base model
and the run's adapter (the sample machinery's generator, same seed and settings), each answer
scored with the spec's contract (parse, schema, required keys, every rule of the checker), the
pairs stored as `samples` rows (split "suite", so the review screen shows them side by side)
and a Markdown report per run: runs/<run>/eval_<suite>.md."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graftwork.core.base.atomic import write_text
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.plan import store
from graftwork.core.plan.exports import read_jsonl
from graftwork.core.plan.paths import PlanPaths
from graftwork.core.review.samples import (
    SampleError,
    SampleGenerator,
    SampleSettings,
    generate_pairs,
    resolve_run,
    sample_row,
)
from graftwork.core.spec.contract import AnswerCheck, ContractChecker
from graftwork.core.spec.load import load_spec

SPLIT = "suite"


def _score(check: AnswerCheck) -> dict[str, Any]:
    rules = {p.rule for p in check.problems}
    return {
        "parse": check.parse_ok,
        "schema": check.schema_ok,
        "keys": "required_keys" not in rules and check.parse_ok is not False,
        "passes": check.passes("lenient"),
        "problems": [str(p) for p in check.problems],
    }


def _mark(value: bool | None) -> str:
    return "–" if value is None else ("✓" if value else "✗")


def _rate(rows: list[dict[str, Any]], which: str, key: str) -> str:
    values = [r[which][key] for r in rows if r[which][key] is not None]
    return f"{sum(values)}/{len(values)}" if values else "–"


def report_markdown(run_id: str, suite: Path, model: str, rows: list[dict[str, Any]]) -> str:
    lines = [
        f"# Evaluation of run {run_id}",
        "",
        f"Suite: `{suite}` ({len(rows)} prompts). Base model: `{model}`.",
        "",
        "| | base | adapter |",
        "|---|---|---|",
    ]
    for key, label in (
        ("parse", "parses"),
        ("schema", "valid schema"),
        ("keys", "required keys"),
        ("passes", "passes the contract"),
    ):
        lines.append(f"| {label} | {_rate(rows, 'base', key)} | {_rate(rows, 'adapter', key)} |")
    lines += [
        "",
        "| id | category | base parse/schema/keys | adapter parse/schema/keys |",
        "|---|---|---|---|",
    ]
    for r in rows:
        b, a = r["base"], r["adapter"]
        lines.append(
            f"| {r['id']} | {r['category']} | {_mark(b['parse'])} {_mark(b['schema'])} {_mark(b['keys'])} "
            f"| {_mark(a['parse'])} {_mark(a['schema'])} {_mark(a['keys'])} |"
        )
    for r in rows:
        lines += ["", f"## {r['id']} ({r['category']})", "", f"> {r['prompt']}", ""]
        for which in ("base", "adapter"):
            problems = "; ".join(r[which]["problems"]) or "none"
            lines += [
                f"**{which}** (problems: {problems})",
                "",
                "```",
                r[f"{which}_output"].strip()[:2000],
                "```",
                "",
            ]
    return "\n".join(lines) + "\n"


def eval_run(
    ws: Workspace,
    run_id: str,
    *,
    suite: str | None = None,
    settings: SampleSettings,
    generate: SampleGenerator,
    job: Job,
) -> StageResult:
    settings.check()
    with ws.catalog() as db:
        spec_row = store.latest_spec(db)
        loaded = load_spec(spec_row["path"])
        spec = loaded.spec
        suite_path = (
            Path(suite) if suite else PlanPaths(ws, spec.dataset.version).suite_file(spec.eval.name)
        )
        if not suite_path.is_file():
            raise SampleError(
                f"{suite_path}: no evaluation suite (run `graftwork split` first, or pass --suite)"
            )
        prompts = read_jsonl(suite_path)
        if settings.n is not None:
            prompts = prompts[: settings.n]
        if not prompts:
            raise SampleError(f"{suite_path}: the suite is empty")
        run, model, adapter_dir = resolve_run(ws, db, run_id, settings.adapter)
        references = {
            iid: g["answer"]
            for iid, g in store.gates(db, "main").items()
            if g["state"] == "accepted"
        }
        checker = ContractChecker(spec.contract, loaded.schema, spec.gating)
        job.set_total(len(prompts))
        job.log(
            f"run {run['id']}: {len(prompts)} suite prompt(s), model {model}, adapter {adapter_dir.name}"
        )
        by_key: dict[str, dict[str, Any]] = {}
        requests = []
        for i, p in enumerate(prompts):
            system = p.get("system") if p.get("system") is not None else spec.system_prompt
            messages = ([{"role": "system", "content": system}] if system else []) + [
                {"role": "user", "content": p["prompt"]}
            ]
            key = f"k{i}"
            by_key[key] = {**p, "messages": messages}
            requests.append({"key": key, "messages": messages, "tools": None})
        rows: list[dict[str, Any]] = []
        result = StageResult()

        def on_pair(key: str, b: dict[str, Any], a: dict[str, Any]) -> None:
            p = by_key[key]
            base_text, adapter_text = str(b.get("text") or ""), str(a.get("text") or "")
            row = {
                "id": p.get("id", key),
                "category": p.get("category", ""),
                "prompt": p["prompt"],
                "base_output": base_text,
                "adapter_output": adapter_text,
                "base": _score(checker.check(base_text)),
                "adapter": _score(checker.check(adapter_text)),
            }
            rows.append(row)
            db["samples"].insert(
                sample_row(
                    run["id"],
                    row["id"],
                    SPLIT,
                    p["prompt"],
                    references.get(row["id"], ""),
                    p["messages"],
                    b,
                    a,
                    settings,
                    adapter_dir.name,
                )
            )
            result.ok += 1
            job.advance(item_id=row["id"])

        generate_pairs(generate, model, adapter_dir, requests, settings, job, on_pair)
    report = ws.runs_dir / run["id"] / f"eval_{suite_path.stem}.md"
    write_text(report, report_markdown(run["id"], suite_path, model, rows))
    result.outputs = [report]

    def passed(which: str) -> int:
        return sum(1 for r in rows if r[which]["passes"])

    result.summary = {
        "run": run["id"],
        "suite": str(suite_path),
        "prompts": len(rows),
        "base_passes": passed("base"),
        "adapter_passes": passed("adapter"),
        "report": str(report),
    }
    return result
