"""Markdown report of reviewed samples: a scores table per run, then every sample with its
prompt, reference, base and adapter output, verdict, score and note."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlite_utils

from graftwork.core.base.markdown import cell as _cell
from graftwork.core.base.markdown import fence as _fence
from graftwork.core.review.samples import list_samples


@dataclass(frozen=True)
class RunScores:
    run_id: str
    set_name: str
    samples: int
    accepted: int
    rejected: int
    unreviewed: int
    scored: int
    mean_score: float | None
    promoted: int
    base_ms: float | None
    adapter_ms: float | None

    @classmethod
    def of(cls, run: dict[str, Any], samples: list[dict[str, Any]]) -> RunScores:
        scores = [s["score"] for s in samples if s.get("score")]

        def mean(values: list[float]) -> float | None:
            return sum(values) / len(values) if values else None

        return cls(
            run_id=run["id"],
            set_name=run.get("set_name") or "",
            samples=len(samples),
            accepted=sum(s["verdict"] == "accept" for s in samples),
            rejected=sum(s["verdict"] == "reject" for s in samples),
            unreviewed=sum(s["verdict"] == "none" for s in samples),
            scored=len(scores),
            mean_score=mean(scores),
            promoted=sum(bool(s.get("promoted")) for s in samples),
            base_ms=mean([s["base_ms"] for s in samples if s.get("base_ms") is not None]),
            adapter_ms=mean([s["adapter_ms"] for s in samples if s.get("adapter_ms") is not None]),
        )


def _fmt(value: float | None, spec: str = ".2f") -> str:
    return "-" if value is None else format(value, spec)


def _eval_lines(db: sqlite_utils.Database, run_id: str) -> list[str]:
    """The run's newest `graftwork eval` scores, base -> adapter (the judge's alone)."""
    from graftwork.core.eval.report import fmt
    from graftwork.core.eval.store import latest_scores

    scores = latest_scores(db, run_id)
    if not scores:
        return []
    parts = [
        f"{m} {fmt(m, v['pair'])}"
        if v.get("pair") is not None
        else f"{m} {fmt(m, v.get('base'))} → {fmt(m, v.get('adapter'))}"
        for m, v in scores.items()
    ]
    sources = ", ".join(sorted({v["source"] for v in scores.values()}))
    return [f"- evaluation ({sources}; base → adapter): {'; '.join(parts)}"]


def render_report(db: sqlite_utils.Database, run_ids: list[str]) -> str:
    """The report for the given runs (ids or unique prefixes), in the order given."""
    from graftwork.core.train.runs import get_run

    runs = [get_run(db, rid) for rid in run_ids]
    per_run = [(run, list_samples(db, run["id"])) for run in runs]
    lines = [
        "# Sample review",
        "",
        "## Scores per run",
        "",
        "| run | set | samples | accepted | rejected | unreviewed | mean score (n) | promoted | base ms | adapter ms |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for run, samples in per_run:
        s = RunScores.of(run, samples)
        lines.append(
            f"| {_cell(s.run_id)} | {_cell(s.set_name)} | {s.samples} | {s.accepted} | {s.rejected} | "
            f"{s.unreviewed} | {_fmt(s.mean_score)} ({s.scored}) | {s.promoted} | {_fmt(s.base_ms, '.0f')} | "
            f"{_fmt(s.adapter_ms, '.0f')} |"
        )
    for run, samples in per_run:
        config = run.get("config") if isinstance(run.get("config"), dict) else {}
        lines += ["", f"## Run {run['id']}", ""]
        lines.append(
            f"- set: {run.get('set_name')}; model: {config.get('model', '?')}; state: {run.get('state')}"
        )
        if run.get("best_val_loss") is not None:
            lines.append(
                f"- best validation loss {run['best_val_loss']:.4f} at iteration {run.get('best_iteration')}"
            )
        lines += _eval_lines(db, run["id"])
        if samples:
            first = samples[0]
            lines.append(
                f"- sampling: seed {first['seed']}, temperature {first['temperature']:g}, "
                f"max tokens {first['max_tokens']}, adapter {first.get('adapter') or 'best'}"
            )
        if not samples:
            lines += ["", "No samples yet: run `graftwork sample --run " + run["id"] + "`."]
        for s in samples:
            score = f", score {s['score']}/5" if s.get("score") else ""
            promoted = ", promoted" if s.get("promoted") else ""
            lines += [
                "",
                f"### Sample {s['id']}: {s['item_id']} ({s['split']})",
                "",
                f"**Verdict:** {s['verdict']}{score}{promoted}",
            ]
            if s.get("note"):
                lines.append(f"**Note:** {s['note']}")
            lines += [
                "",
                "**Prompt**",
                "",
                _fence(s["prompt"], "text"),
                "",
                "**Reference**",
                "",
                _fence(s["reference"]),
                "",
                f"**Base** ({_fmt(s.get('base_ms'), '.0f')} ms)",
                "",
                _fence(s["base_output"]),
                "",
                f"**Adapter** ({_fmt(s.get('adapter_ms'), '.0f')} ms)",
                "",
                _fence(s["adapter_output"]),
            ]
    return "\n".join(lines) + "\n"
