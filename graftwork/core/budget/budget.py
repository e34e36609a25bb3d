"""Token budget: which complete examples fit max_sequence_length.

The top half is pure arithmetic over counts (`strategy_for`; `histogram` and `stats` come from
stats.py) so the TUI can re-run it instantly when the user changes the limit. The bottom half is the `budget`
stage: count every candidate example (through the token cache) and write the seed's
`training_data_size_analysis.json` and `training_data_strategy.json` plus `budget` rows.
"""

from __future__ import annotations

import json
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graftwork.core.base.jsonfast import dumps
from graftwork.core.budget.stats import histogram, stats

if TYPE_CHECKING:
    from graftwork.core.base.jobs import Job, StageResult
    from graftwork.core.base.project import ProjectConfig
    from graftwork.core.base.workspace import Workspace
    from graftwork.core.budget.tokens import TokenCount, TokenCounter
    from graftwork.core.sources.base import Candidate, ExampleProvider

STRATEGY_FILE = "training_data_strategy.json"
ANALYSIS_FILE = "training_data_size_analysis.json"
WIDGET_SIZES_FILE = "widget_size_analysis.json"


# ---- arithmetic --------------------------------------------------------------------------
def exceeds_reason(total: int, max_tokens: int) -> str:
    return f"Exceeds limit ({total} > {max_tokens} tokens)"


def strategy_entry(total: int, widget: int, max_tokens: int) -> dict[str, Any]:
    """One item in the seed's shape: == max is keep."""
    if total <= max_tokens:
        return {"action": "keep", "current_total_tokens": total, "current_widget_tokens": widget}
    return {
        "action": "exclude",
        "reason": exceeds_reason(total, max_tokens),
        "current_total_tokens": total,
        "current_widget_tokens": widget,
        "over_by": total - max_tokens,
    }


def strategy_for(
    counts: Mapping[str, TokenCount | tuple[int, int]], max_tokens: int
) -> dict[str, Any]:
    """The seed's training_data_strategy.json for ``counts``: id -> TokenCount, or id ->
    (total, widget tokens) when only the numbers are at hand (the TUI's budget rows)."""
    strategy = {}
    for i, c in counts.items():
        total, widget = (c.total, c.widget) if not isinstance(c, tuple) else c
        strategy[i] = strategy_entry(int(total), int(widget), max_tokens)
    keep = sum(1 for e in strategy.values() if e["action"] == "keep")
    return {
        "max_sequence_length": max_tokens,
        "strategy": strategy,
        "summary": {"keep": keep, "exclude": len(strategy) - keep},
    }


def size_analysis(
    counts: Mapping[str, TokenCount],
    max_tokens: int,
    tokenizer: str,
    skipped: Sequence[tuple[str, str]] = (),
) -> dict[str, Any]:
    """training_data_size_analysis.json: per item totals and parts, stats, histogram."""
    totals = [c.total for c in counts.values()]
    parts = ("system", "tools", "user", "assistant", "structure")
    from graftwork.core.budget.tokens import counts_label

    return {
        "max_sequence_length": max_tokens,
        "tokenizer": tokenizer,
        "token_counts": counts_label(tokenizer),  # exact | approximate (added to the seed's shape)
        "stats": stats(totals),
        "parts_mean": {
            p: round(statistics.fmean([c.parts.get(p, 0) for c in counts.values()]), 1)
            if counts
            else 0
            for p in parts
        },
        "histogram": histogram(totals, 10),
        "items": {
            i: {
                "total": c.total,
                "parts": c.parts,
                "status": "over" if c.total > max_tokens else "under",
                "over_by": max(0, c.total - max_tokens),
                "headroom": max(0, max_tokens - c.total),
            }
            for i, c in counts.items()
        },
        "skipped": [{"id": i, "reason": r} for i, r in skipped],
    }


# ---- the stage ---------------------------------------------------------------------------
def run_budget(
    ws: Workspace,
    counter: TokenCounter,
    *,
    max_tokens: int | None = None,
    widgets_only: bool = False,
    job: Job,
) -> StageResult:
    from graftwork.core.base.atomic import write_json
    from graftwork.core.base.catalog.db import now
    from graftwork.core.base.jobs import StageResult
    from graftwork.core.base.project import load_project
    from graftwork.core.budget.tokens import counts_label
    from graftwork.core.recipes import example_provider

    project = load_project(ws)
    provider = example_provider(ws)
    limit = max_tokens or project.max_sequence_length
    with ws.catalog() as db:
        result = StageResult()
        if not widgets_only:  # hand edits of prompts/*.prompt count before counting
            from graftwork.core.prompts.pickup import log_pickup, pickup

            log_pickup(job, pickup(ws, db))
        if widgets_only:
            from graftwork.core.ingest.widget_sizes import widget_size_report
            from graftwork.core.sources.uebersicht import load_codes

            codes, failed = load_codes(db, ws.downloads_dir)
            job.set_total(len(codes))
            ids = list(codes)
            sizes = dict(zip(ids, counter.count_texts([codes[i] for i in ids]), strict=True))
            job.advance(len(ids))
            report = widget_size_report(sizes, limit, counter.id)
            path = ws.root / WIDGET_SIZES_FILE
            write_json(path, report)
            _report_failures(job, result, failed)
            result.ok = len(sizes)
            result.outputs.append(path)
            result.summary = {
                "max_tokens": limit,
                "widgets": len(sizes),
                "over_limit": report["widgets_over_limit"],
                "token_counts": counts_label(counter.id),
                "recommendations": report["recommendations"],
            }
            return result

        cands, skipped = provider.candidates(db)
        job.set_total(len(cands))
        counts, shas, failed = count_candidates(db, provider, counter, project, cands, job)
        strategy = strategy_for(counts, limit)
        strategy["token_counts"] = counts_label(counter.id)  # an added key; the seed's stay
        analysis = size_analysis(counts, limit, counter.id, skipped)
        write_json_fast(ws.root / ANALYSIS_FILE, analysis, "items")
        write_json_fast(ws.root / STRATEGY_FILE, strategy, "strategy")
        result.outputs += [ws.root / ANALYSIS_FILE, ws.root / STRATEGY_FILE]
        _store_budget(db, counts, shas, strategy, limit, counter.id, now())
        from graftwork.core.edits import refresh_report

        report = refresh_report(ws, db)  # its PS_tokens columns follow the budget
        if report is not None:
            result.outputs.append(report)
        _report_failures(job, result, failed)
        result.skipped = list(skipped)
        result.ok = len(counts)
        excluded = [
            {
                "id": i,
                "total": e["current_total_tokens"],
                "widget": e["current_widget_tokens"],
                "over_by": e["over_by"],
            }
            for i, e in strategy["strategy"].items()
            if e["action"] == "exclude"
        ]
        result.summary = {
            **strategy["summary"],
            "max_tokens": limit,
            "tokenizer": counter.id,
            "tokenizer_label": getattr(counter, "label", counter.id),
            "token_counts": counts_label(counter.id),
            "stats": analysis["stats"],
            "excluded": excluded,
        }
        return result


def count_candidates(
    db: Any,
    provider: ExampleProvider,
    counter: TokenCounter,
    project: ProjectConfig,
    cands: Sequence[Candidate],
    job: Job,
) -> tuple[dict[str, TokenCount], dict[str, str], list[tuple[str, str]]]:
    """Counts (in catalog order), example sha256s and failures for ``cands``.

    Examples seen before are found by their ingredients (prompt + the provider's ident, for
    widgets analysis' code hash), so an edit re-reads and recounts only the edited item. A
    stale ident simply misses (aliases are stored under the ident of what was actually read).
    `build` always counts the exact line it writes.
    """
    from graftwork.core.budget.tokens import identity_key
    from graftwork.core.sources.base import load_examples, read_ident

    phash = project.content_hash()
    idents = {
        c.item_id: identity_key(counter.id, phash, c.prompt, c.ident) for c in cands if c.ident
    }
    hits = counter.lookup_identities(list(idents.values()))
    found: dict[str, tuple[TokenCount, str]] = {i: hits[k] for i, k in idents.items() if k in hits}
    if found:  # per item: two items with the same prompt and content share one hit
        job.advance(len(found))
    missing = [c for c in cands if c.item_id not in found]
    job.check_cancelled()
    examples, failed = load_examples(provider, db, missing)
    if failed:
        job.advance(len(failed))
    by_id = {c.item_id: c for c in missing}
    new_idents = [
        identity_key(
            counter.id, phash, by_id[ex.item_id].prompt, read_ident(provider, by_id[ex.item_id], ex)
        )
        for ex in examples
    ]

    def progress(n: int) -> None:
        job.advance(n)
        job.check_cancelled()  # counts made so far stay cached for the next run

    counted = counter.count_many(examples, progress=progress)
    fresh = {
        k: (cnt, ex.sha256()) for k, ex, cnt in zip(new_idents, examples, counted, strict=True)
    }
    if fresh:
        counter.store_identities(fresh)
    for k, ex in zip(new_idents, examples, strict=True):
        found[ex.item_id] = fresh[k]
    order = [c.item_id for c in cands if c.item_id in found]
    return {i: found[i][0] for i in order}, {i: found[i][1] for i in order}, failed


def write_json_fast(path: Path, data: dict[str, Any], big_key: str) -> None:
    """Pretty JSON with the large mapping or list ``big_key`` one entry per line: readable, and
    the C encoder does the work (indent= falls back to the pure-Python one, 10x slower)."""
    from graftwork.core.base.atomic import write_text

    dump = dumps  # one C encoder for every entry: json.dumps() builds one per call
    lines = ["{"]
    keys = list(data)
    for n, key in enumerate(keys):
        comma = "," if n < len(keys) - 1 else ""
        value = data[key]
        if key == big_key and isinstance(value, dict) and value:
            entries = [f"    {dump(k)}: {dump(v)}" for k, v in value.items()]
            lines.append(f"  {dump(key)}: {{\n" + ",\n".join(entries) + f"\n  }}{comma}")
        elif key == big_key and isinstance(value, list) and value:
            entries = [f"    {dump(v)}" for v in value]
            lines.append(f"  {dump(key)}: [\n" + ",\n".join(entries) + f"\n  ]{comma}")
        else:
            lines.append(f"  {dump(key)}: {dump(value)}{comma}")
    lines.append("}")
    write_text(path, "\n".join(lines) + "\n")


def _report_failures(job: Job, result: StageResult, failed: Sequence[tuple[str, str]]) -> None:
    for item_id, cause in failed:
        job.item_failed(item_id, cause)
        result.failed.append((item_id, cause))


def _store_budget(
    db: Any,
    counts: Mapping[str, TokenCount],
    shas: Mapping[str, str],
    strategy: dict[str, Any],
    limit: int,
    tokenizer: str,
    stamp: str,
) -> None:
    """Make the budget table describe this run: rows that did not change are left alone (their
    computed_at stays), changed ones replaced, rows of items no longer counted removed."""
    rows = {}
    for item_id, c in counts.items():
        entry = strategy["strategy"][item_id]
        rows[item_id] = (
            item_id,
            limit,
            c.total,
            c.widget,
            json.dumps(c.parts),
            entry["action"],
            entry.get("reason"),
            entry.get("over_by", 0),
            tokenizer,
            shas[item_id],
        )
    old = {
        r[0]: tuple(r)
        for r in db.conn.execute(
            "SELECT item_id, max_tokens, total_tokens, widget_tokens, parts, action, reason, over_by,"
            " tokenizer, example_sha256 FROM budget"
        )
    }
    changed = [(*row, stamp) for i, row in rows.items() if old.get(i) != row]
    gone = [(i,) for i in old if i not in rows]
    with db.conn:  # one transaction: the table always describes one whole budget run
        db.conn.executemany("DELETE FROM budget WHERE item_id = ?", gone)
        db.conn.executemany(
            "INSERT OR REPLACE INTO budget (item_id, max_tokens, total_tokens, widget_tokens, parts, action,"
            " reason, over_by, tokenizer, example_sha256, computed_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            changed,
        )


def read_strategy(path: Path) -> dict[str, Any] | None:
    """A strategy file in the seed's shape, or None if absent or unreadable."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and isinstance(data.get("strategy"), dict) else None
