"""The Markdown report of one evaluation (runs/<run>/eval_<split or suite>.md), written from
the catalog, so the judge can rewrite it with its verdicts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from graftwork.core.base.atomic import write_text
from graftwork.core.base.markdown import cell, fence
from graftwork.core.base.workspace import Workspace
from graftwork.core.eval import store

LOWER_IS_BETTER = frozenset({"loss", "perplexity"})
# Values that are not rates in [0, 1] (printed as numbers, not percentages).
PLAIN = frozenset({"loss", "perplexity", "tokens_per_sec"})


def fmt(metric: str, value: float | None) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if metric in PLAIN:
        return f"{value:,.1f}" if metric == "tokens_per_sec" else f"{value:.4f}"
    return f"{100 * value:.1f}%"


def fmt_delta(metric: str, a: float | None, b: float | None) -> str:
    """b - a, signed, with a mark saying whether that is better (+) or worse (-)."""
    if a is None or b is None:
        return "–"
    delta = b - a
    if metric in PLAIN:
        text = f"{delta:+,.1f}" if metric == "tokens_per_sec" else f"{delta:+.4f}"
    else:
        text = f"{100 * delta:+.1f} pts"
    if delta == 0 or metric == "tokens_per_sec":
        return text
    better = delta < 0 if metric in LOWER_IS_BETTER else delta > 0
    return f"{text} {'better' if better else 'worse'}"


def report_path(ws: Workspace, run_id: str, source: str) -> Path:
    kind, _, name = source.partition(":")
    stem = Path(name).stem if kind == "suite" else name
    return ws.runs_dir / run_id / f"eval_{stem}.md"


def _mark(value: Any) -> str:
    return "–" if value is None else ("✓" if value else "✗")


def render(db: Any, eval_id: str) -> str:
    rows = store.eval_scores(db, eval_id)
    if not rows:
        return ""
    head = rows[0]
    model = _base_model(db, head["run_id"])
    table: dict[str, dict[str, Any]] = {}
    for r in rows:
        table.setdefault(r["metric"], {"n": 0})[r["model"]] = r["value"]
        table[r["metric"]]["n"] = max(table[r["metric"]]["n"], r["n"] or 0)
    items = store.eval_items(db, eval_id)
    sample_ids = sorted({i["sample_id"] for i in items if i["sample_id"] is not None})
    samples = (
        {
            s["id"]: s
            for s in db.query(
                f"select * from samples where id in ({','.join('?' * len(sample_ids))})", sample_ids
            )
        }
        if sample_ids
        else {}
    )
    per_sample: dict[int, dict[str, dict[str, Any]]] = {}
    for i in items:
        per_sample.setdefault(i["sample_id"], {})[i["model"]] = i["metrics"]
    lines = [
        f"# Evaluation of run {head['run_id']}",
        "",
        f"Source: `{head['source']}` ({len(per_sample)} examples), adapter checkpoint "
        f"`{head['checkpoint']}`{f', base model `{model}`' if model else ''}. "
        f"Evaluation `{eval_id}`, {head['created_at'][:19].replace('T', ' ')} UTC.",
        "",
        "| metric | base | adapter | Δ (adapter − base) | n |",
        "|---|---|---|---|---|",
    ]
    for metric, v in table.items():
        if "pair" in v and "base" not in v and "adapter" not in v:
            continue
        b, a = v.get("base"), v.get("adapter")
        lines.append(
            f"| {metric} | {fmt(metric, b)} | {fmt(metric, a)} | {fmt_delta(metric, b, a)} | {v['n']} |"
        )
    judged = {m: v for m, v in table.items() if "pair" in v}
    if judged:
        lines += [
            "",
            "## Judge (pairwise, each pair asked in both orders)",
            "",
            "| measure | value | n |",
            "|---|---|---|",
            *(f"| {m} | {fmt(m, v['pair'])} | {v['n']} |" for m, v in judged.items()),
            "",
            "judge_score is the adapter's mean score (win 1, tie 0.5, loss 0) over both orders: "
            "above 50% the judge prefers the adapter.",
        ]
    present = {
        m for models in per_sample.values() for w in ("base", "adapter") for m in models.get(w, {})
    }
    metric_names = [m for m in table if m in present]  # in the order of the table above
    if metric_names or judged:
        cols = " | ".join(metric_names)
        lines += ["", "## Per example (base / adapter)", ""]
        lines.append(f"| id | {cols}{' | judge' if judged else ''} |")
        lines.append("|---" * (1 + len(metric_names) + bool(judged)) + "|")
        for sid, models in per_sample.items():
            s = samples.get(sid, {})
            cells = [
                f"{_mark(models.get('base', {}).get(m))} {_mark(models.get('adapter', {}).get(m))}"
                for m in metric_names
            ]
            if judged:
                cells.append(fmt("judge_score", models.get("pair", {}).get("judge_score")))
            lines.append(f"| {cell(str(s.get('item_id', sid)))} | {' | '.join(cells)} |")
    for sid in per_sample:
        s = samples.get(sid)
        if not s:
            continue
        lines += [
            "",
            f"## {s['item_id']}",
            "",
            "> " + (s["prompt"] or "").replace("\n", "\n> "),
            "",
        ]
        if s.get("reference"):
            lines += ["**reference**", "", fence(s["reference"].strip()[:2000], ""), ""]
        for which in ("base", "adapter"):
            lines += [
                f"**{which}**",
                "",
                fence((s[f"{which}_output"] or "").strip()[:2000], ""),
                "",
            ]
        reason = per_sample[sid].get("pair", {}).get("reasons")
        if reason:
            lines += [f"**judge**: {'; '.join(reason)}", ""]
    return "\n".join(lines).rstrip() + "\n"


def _base_model(db: Any, run_id: str) -> str:
    from graftwork.core.train.runs import RunNotFound, get_run

    try:
        config = get_run(db, run_id).get("config")
    except RunNotFound:
        return ""
    return str(config.get("model") or "") if isinstance(config, dict) else ""


def write_report(ws: Workspace, db: Any, eval_id: str) -> Path | None:
    head = store.eval_source(db, eval_id)
    if not head:
        return None
    path = report_path(ws, head["run_id"], head["source"])
    write_text(path, render(db, eval_id))
    return path
