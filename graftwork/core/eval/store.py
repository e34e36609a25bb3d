"""The `eval_results` table: write one evaluation's scores, read the newest per run.

Other areas (the model card of `graftwork ship`, `runs --compare`, the workstation) read scores
only through `latest_scores` / `eval_scores`, never with their own SQL."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from graftwork.core.base.catalog.txn import now, write_txn

TABLE = "eval_results"
MODELS = ("base", "adapter", "pair")


@dataclass(frozen=True)
class Score:
    """One metric of one model in one evaluation."""

    model: str  # base | adapter | pair
    metric: str
    value: float | None
    n: int = 0
    detail: dict[str, Any] = field(default_factory=dict)


def new_eval_id(run_id: str) -> str:
    return f"{run_id}@{now()}#{secrets.token_hex(2)}"


def record_scores(
    db: sqlite_utils.Database,
    run_id: str,
    *,
    checkpoint: str,
    source: str,
    scores: list[Score],
    eval_id: str | None = None,
) -> str:
    """Store an evaluation's scores in one transaction (a reader never sees half of one);
    returns its eval id. Pass ``eval_id`` to add scores (e.g. the judge's) to an evaluation."""
    eval_id = eval_id or new_eval_id(run_id)
    stamp = now()
    rows = []
    for s in scores:
        if s.model not in MODELS:
            raise ValueError(f"score model must be one of {MODELS}, got {s.model!r}")
        rows.append(
            {
                "eval_id": eval_id,
                "run_id": run_id,
                "model": s.model,
                "checkpoint": checkpoint,
                "source": source,
                "metric": s.metric,
                "value": s.value,
                "n": s.n,
                "detail": json.dumps(s.detail, ensure_ascii=False, sort_keys=True),
                "created_at": stamp,
            }
        )
    with write_txn(db):
        db[TABLE].insert_all(rows)
    return eval_id


def _rows(db: sqlite_utils.Database, where: str, params: list[Any]) -> list[dict[str, Any]]:
    if not db[TABLE].exists():  # a read-only catalog made before this table existed
        return []
    return list(db.query(f"select * from {TABLE} where {where} order by created_at, id", params))


def latest_scores(db: sqlite_utils.Database, run_id: str) -> dict[str, dict[str, Any]]:
    """The newest value of every metric of a run, base and adapter side by side:
    ``{metric: {"base": float|None, "adapter": float|None, "pair": float|None, "n": int,
    "source": "split:test", "checkpoint": "best", "eval_id": ..., "created_at": ...}}``.

    Each metric comes from the newest evaluation that measured it (a later suite evaluation
    does not hide the split's perplexity). ``{}`` when the run was never evaluated. Values
    that could not be computed are None."""
    out: dict[str, dict[str, Any]] = {}
    for row in _rows(db, "run_id = ?", [run_id]):  # oldest first: newer rows overwrite
        entry = out.get(row["metric"])
        if entry is None or entry["eval_id"] != row["eval_id"]:
            entry = {m: None for m in MODELS} | {
                "n": 0,
                "source": row["source"],
                "checkpoint": row["checkpoint"],
                "eval_id": row["eval_id"],
                "created_at": row["created_at"],
            }
            out[row["metric"]] = entry
        entry[row["model"]] = row["value"]
        entry["n"] = max(entry["n"], row["n"] or 0)
    return out


def eval_scores(db: sqlite_utils.Database, eval_id: str) -> list[dict[str, Any]]:
    """Every row of one evaluation (detail decoded), in the order it was written."""
    rows = _rows(db, "eval_id = ?", [eval_id])
    for row in rows:
        row["detail"] = json.loads(row["detail"] or "{}")
    return rows


def evaluated_runs(db: sqlite_utils.Database) -> list[str]:
    """Run ids that have scores, oldest evaluation first."""
    if not db[TABLE].exists():
        return []
    return [
        r["run_id"]
        for r in db.query(
            f"select run_id, min(created_at) as first from {TABLE} group by run_id order by first"
        )
    ]


def record_items(
    db: sqlite_utils.Database, eval_id: str, run_id: str, rows: list[dict[str, Any]]
) -> None:
    """Per-example values: rows of {sample_id, item_id, model, metrics}; in the caller's
    transaction when there is one."""
    stamp = now()
    with write_txn(db):
        db["eval_items"].insert_all(
            {
                "eval_id": eval_id,
                "run_id": run_id,
                "sample_id": r.get("sample_id"),
                "item_id": r["item_id"],
                "model": r["model"],
                "metrics": json.dumps(r["metrics"], ensure_ascii=False, sort_keys=True),
                "created_at": stamp,
            }
            for r in rows
        )


def eval_items(db: sqlite_utils.Database, eval_id: str) -> list[dict[str, Any]]:
    if not db["eval_items"].exists():
        return []
    rows = list(db.query("select * from eval_items where eval_id = ? order by id", [eval_id]))
    for row in rows:
        row["metrics"] = json.loads(row["metrics"] or "{}")
    return rows


def sample_metrics(db: sqlite_utils.Database, sample_id: int) -> dict[str, dict[str, Any]]:
    """model -> metric values of one samples row (its newest evaluation), {} when none."""
    if not db["eval_items"].exists():
        return {}
    out: dict[str, dict[str, Any]] = {}
    for row in db.query(
        "select model, metrics from eval_items where sample_id = ? order by id", [sample_id]
    ):
        out[row["model"]] = json.loads(row["metrics"] or "{}")
    return out


def latest_eval_id(db: sqlite_utils.Database, run_id: str) -> str | None:
    """The newest evaluation of a run that has results."""
    if not db[TABLE].exists():
        return None
    row = db.execute(
        f"select eval_id from {TABLE} where run_id = ? and model != 'pair' "
        "order by created_at desc, id desc limit 1",
        [run_id],
    ).fetchone()
    return row[0] if row else None


def eval_source(db: sqlite_utils.Database, eval_id: str) -> dict[str, Any]:
    row = db.execute(
        f"select run_id, checkpoint, source, created_at from {TABLE} where eval_id = ? limit 1",
        [eval_id],
    ).fetchone()
    if row is None:
        return {}
    return dict(zip(("run_id", "checkpoint", "source", "created_at"), row, strict=True))


def run_sample_metrics(db: sqlite_utils.Database, run_id: str) -> dict[int, dict[str, Any]]:
    """sample id -> {model: metric values} for every evaluated sample of a run (newest wins)."""
    if not db["eval_items"].exists():
        return {}
    out: dict[int, dict[str, Any]] = {}
    for row in db.query(
        "select sample_id, model, metrics from eval_items where run_id = ? order by id", [run_id]
    ):
        if row["sample_id"] is not None:
            out.setdefault(row["sample_id"], {})[row["model"]] = json.loads(row["metrics"] or "{}")
    return out


def metric_names(db: sqlite_utils.Database) -> list[str]:
    """Every metric some evaluation measured, in the order first measured."""
    if not db[TABLE].exists():
        return []
    return [
        r["metric"]
        for r in db.query(
            f"select metric, min(id) as first from {TABLE} group by metric order by first"
        )
    ]


def metric_history(db: sqlite_utils.Database, metric: str) -> list[dict[str, Any]]:
    """One metric across runs, oldest run first: [{run_id, started_at, base, adapter, pair,
    source}], each run's newest value (`latest_scores`); runs that never measured it left out."""
    if not db[TABLE].exists():
        return []
    runs = list(
        db.query(
            f"select distinct e.run_id, r.started_at from {TABLE} e left join runs r "
            "on r.id = e.run_id where e.metric = ? order by r.started_at, e.run_id",
            [metric],
        )
    )
    out = []
    for r in runs:
        entry = latest_scores(db, r["run_id"]).get(metric)
        if entry:
            out.append({"run_id": r["run_id"], "started_at": r["started_at"], **entry})
    return out
