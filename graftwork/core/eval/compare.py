"""Scores side by side, as text rows: one evaluation (base vs adapter) or two runs (`graftwork
runs --compare A B`: each run's newest value of every metric, the adapter's, and B − A)."""

from __future__ import annotations

from typing import Any

from graftwork.core.eval.report import fmt, fmt_delta


def run_value(entry: dict[str, Any]) -> float | None:
    """What a run scored on a metric: the adapter's value (the judge's for pair metrics)."""
    return entry.get("adapter") if entry.get("adapter") is not None else entry.get("pair")


def eval_rows(scores: dict[str, dict[str, Any]]) -> list[tuple[str, str, str, str]]:
    """(metric, base, adapter, delta) for scores shaped {metric: {"base", "adapter"}}."""
    return [
        (
            m,
            fmt(m, v.get("base")),
            fmt(m, v.get("adapter")),
            fmt_delta(m, v.get("base"), v.get("adapter")),
        )
        for m, v in scores.items()
        if v.get("base") is not None or v.get("adapter") is not None
    ]


def compare_rows(
    a: dict[str, dict[str, Any]], b: dict[str, dict[str, Any]]
) -> list[tuple[str, str, str, str, str]]:
    """(metric, source, A, B, B − A) for every metric either run has (`latest_scores` shape);
    the base model's value is a row of its own where both runs measured it on one source."""
    rows = []
    for metric in [*a, *(m for m in b if m not in a)]:
        ea, eb = a.get(metric, {}), b.get(metric, {})
        va, vb = run_value(ea), run_value(eb)
        sources = {s for s in (ea.get("source"), eb.get("source")) if s}
        source = sources.pop() if len(sources) == 1 else " / ".join(sorted(sources)) or "–"
        rows.append((metric, source, fmt(metric, va), fmt(metric, vb), fmt_delta(metric, va, vb)))
    return rows
