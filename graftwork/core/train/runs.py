"""Training runs in the catalog: one `runs` row per run, `run_metrics` rows per reported point.

Files of a run live in runs/<run-id>/: data/ (mlx chat JSONL), metrics.jsonl (every event),
adapters/best and adapters/last (each with adapters.safetensors + adapter_config.json; last also
holds optimizer.safetensors and state.json for --resume), child.log (library output)."""

from __future__ import annotations

import contextlib
import json
import math
import re
import secrets
from datetime import UTC, datetime
from typing import Any

import sqlite_utils

from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import GraftworkError


class RunNotFound(GraftworkError):
    exit_code = 2


def new_run_id(set_name: str) -> str:
    """Sortable and readable: 20261122-021500-<set>-<4 hex>."""
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", set_name).strip("-")[:40] or "set"
    return f"{stamp}-{slug}-{secrets.token_hex(2)}"


_JSON_FIELDS = ("config", "versions")


def _encoded(row: dict[str, Any]) -> dict[str, Any]:
    return {
        k: json.dumps(v, ensure_ascii=False, default=str)
        if k in _JSON_FIELDS and not isinstance(v, str)
        else v
        for k, v in row.items()
    }


def create_run(db: sqlite_utils.Database, **fields: Any) -> None:
    db["runs"].insert(_encoded({"state": "running", "started_at": now(), **fields}), pk="id")


def update_run(db: sqlite_utils.Database, run_id: str, **fields: Any) -> None:
    db["runs"].update(run_id, _encoded(fields))


def get_run(db: sqlite_utils.Database, run_id: str) -> dict[str, Any]:
    """A run row by id or unique id prefix; config and versions decoded."""
    rows = list(
        db.query("select * from runs where id = ? or id like ? order by id", [run_id, f"{run_id}%"])
    )
    exact = [r for r in rows if r["id"] == run_id]
    if exact:
        rows = exact
    if not rows:
        raise RunNotFound(f"no run {run_id!r} (see `graftwork runs`)")
    if len(rows) > 1:
        raise RunNotFound(f"run id {run_id!r} is ambiguous: {', '.join(r['id'] for r in rows[:5])}")
    return _decode(rows[0])


def list_runs(db: sqlite_utils.Database, set_name: str | None = None) -> list[dict[str, Any]]:
    """Newest first."""
    if not db["runs"].exists():
        return []
    where, params = ("where set_name = ?", [set_name]) if set_name else ("", [])
    return [
        _decode(r)
        for r in db.query(f"select * from runs {where} order by started_at desc, id desc", params)
    ]


def run_metrics(
    db: sqlite_utils.Database, run_id: str, kind: str | None = None
) -> list[dict[str, Any]]:
    """Reported points in iteration order (kind 'train', 'val' or both)."""
    where, params = "where run_id = ?", [run_id]
    if kind:
        where += " and kind = ?"
        params.append(kind)
    return list(
        db.query(f"select * from run_metrics {where} order by iteration, kind, rowid", params)
    )


def duration_seconds(run: dict[str, Any]) -> float | None:
    if not run.get("started_at"):
        return None
    start = datetime.fromisoformat(run["started_at"])
    end = datetime.fromisoformat(run["ended_at"]) if run.get("ended_at") else datetime.now(UTC)
    return max(0.0, (end - start).total_seconds())


def _finite(x: Any) -> float | None:
    return float(x) if isinstance(x, int | float) and math.isfinite(x) else None


def record_event(db: sqlite_utils.Database, run_id: str, event: dict[str, Any]) -> None:
    """Store one child event: metrics rows plus the run's best/last bookkeeping."""
    kind = event.get("type")
    ts = now()
    if kind == "train":
        db["run_metrics"].insert(
            {
                "run_id": run_id,
                "iteration": event["iteration"],
                "kind": "train",
                "loss": _finite(event.get("loss")),
                "learning_rate": _finite(event.get("learning_rate")),
                "it_per_sec": _finite(event.get("it_per_sec")),
                "tokens_per_sec": _finite(event.get("tokens_per_sec")),
                "peak_memory_gb": _finite(event.get("peak_memory_gb")),
                "ts": ts,
            }
        )
        update_run(db, run_id, last_iteration=event["iteration"])
    elif kind == "val":
        db["run_metrics"].insert(
            {
                "run_id": run_id,
                "iteration": event["iteration"],
                "kind": "val",
                "loss": _finite(event.get("loss")),
                "ts": ts,
            }
        )
        if event.get("best"):
            update_run(
                db,
                run_id,
                best_val_loss=_finite(event.get("loss")),
                best_iteration=event["iteration"],
            )
    elif kind == "checkpoint":
        update_run(db, run_id, last_iteration=event["iteration"])
    elif kind == "finished" and event.get("state") == "cancelled" and "iteration" in event:
        # Where a resume continues: a hard stop keeps the last checkpoint, behind the last
        # reported train step.
        update_run(db, run_id, last_iteration=event["iteration"])
    elif kind == "started" and event.get("versions"):
        update_run(db, run_id, versions=event["versions"])


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    out = dict(row)
    for key in _JSON_FIELDS:
        if isinstance(out.get(key), str):
            with contextlib.suppress(ValueError):
                out[key] = json.loads(out[key])
    return out
