"""An evaluation in progress: what makes `graftwork eval` resumable.

Every generation (base and adapter, per example) and every loss pass is recorded in
`eval_progress` the moment the generator reports it, under the evaluation's id in
`eval_pending` with the settings that produced it. A rerun of the same evaluation (same run,
checkpoint and adapter file, model, examples, seed, temperature, max tokens, loss settings)
finds it and generates only what is missing; a rerun with another setting discards it and
starts fresh (one line says which settings changed). The finished evaluation's results are
written by the caller in one transaction that also calls `clear`, so a kill leaves either
the pending rows or the results, never half of either."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from graftwork.core.base.catalog.txn import now, write_txn
from graftwork.core.eval import store


def settings_key(settings: dict[str, Any]) -> str:
    blob = json.dumps(settings, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


def digest(value: Any) -> str:
    """A short stable hash of JSON-able data (the examples an evaluation runs on)."""
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:16]


def changed_settings(old: dict[str, Any], new: dict[str, Any]) -> str:
    """``seed 0 → 1, max_tokens 16 → 32`` (hashes shown as "changed")."""
    parts = []
    for key in sorted(set(old) | set(new)):
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        if key in ("examples", "adapter_sha256"):
            parts.append(f"{key} changed")
        else:
            parts.append(f"{key} {a} → {b}")
    return ", ".join(parts) or "settings changed"


@dataclass
class Pending:
    """The evaluation this stage works on, and what an earlier process of it finished."""

    eval_id: str
    resumed: bool
    note: str | None = None  # one line for the job log (resumed, or discarded)
    samples: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {"base": {}, "adapter": {}}
    )  # model -> case key -> event
    losses: dict[str, dict[str, Any]] = field(default_factory=dict)  # model -> loss event

    def done(self, model: str) -> list[str]:
        return sorted(self.samples[model])


def open_pending(db: sqlite_utils.Database, run_id: str, settings: dict[str, Any]) -> Pending:
    """Continue the run's unfinished evaluation made with these settings, or start a new one
    (discarding an unfinished one made with other settings)."""
    key = settings_key(settings)
    rows = list(
        db.query("select * from eval_pending where run_id = ? order by created_at", [run_id])
    )
    note = None
    with write_txn(db):
        for row in rows:
            if row["settings_key"] == key:
                return _read(db, row["eval_id"])
            old = json.loads(row["settings"] or "{}")
            note = (
                f"the unfinished evaluation of run {run_id} used other settings "
                f"({changed_settings(old, settings)}); starting fresh"
            )
            clear(db, row["eval_id"])
        eval_id = store.new_eval_id(run_id)
        db["eval_pending"].insert(
            {
                "eval_id": eval_id,
                "run_id": run_id,
                "settings_key": key,
                "settings": json.dumps(settings, sort_keys=True, ensure_ascii=False),
                "created_at": now(),
            }
        )
    return Pending(eval_id, resumed=False, note=note)


def _read(db: sqlite_utils.Database, eval_id: str) -> Pending:
    got = Pending(eval_id, resumed=True)
    for row in db.query(
        "select kind, model, case_key, event from eval_progress where eval_id = ?", [eval_id]
    ):
        event = json.loads(row["event"])
        if row["kind"] == "loss":
            got.losses[row["model"]] = event
        else:
            got.samples[row["model"]][row["case_key"]] = event
    n = sum(len(v) for v in got.samples.values())
    got.note = (
        f"continuing evaluation {eval_id}: {n} generation(s) and {len(got.losses)} loss "
        "pass(es) finished before are kept"
    )
    return got


def record(
    db: sqlite_utils.Database, pending: Pending, kind: str, model: str, event: dict[str, Any]
) -> None:
    """One finished generation or loss pass, committed at once (and kept in ``pending``)."""
    case_key = str(event.get("key") or "") if kind == "sample" else ""
    with write_txn(db):
        # Only while the evaluation is pending: once another process stored it, nothing here
        # is left behind (that run ends with one line when it tries to store it too).
        db.execute(
            "insert or replace into eval_progress (eval_id, kind, model, case_key, event, "
            "created_at) select ?, ?, ?, ?, ?, ? where exists "
            "(select 1 from eval_pending where eval_id = ?)",
            [
                pending.eval_id,
                kind,
                model,
                case_key,
                json.dumps(event, ensure_ascii=False),
                now(),
                pending.eval_id,
            ],
        )
    if kind == "loss":
        pending.losses[model] = event
    else:
        pending.samples[model][case_key] = event


def still_pending(db: sqlite_utils.Database, eval_id: str) -> bool:
    """False once another process stored (or discarded) this evaluation: two runs of the same
    evaluation at once share its progress, and only the first to finish stores it."""
    return (
        db.execute("select 1 from eval_pending where eval_id = ?", [eval_id]).fetchone() is not None
    )


def clear(db: sqlite_utils.Database, eval_id: str) -> None:
    """Forget an evaluation in progress (in the caller's transaction when there is one)."""
    with write_txn(db):
        db.execute("delete from eval_progress where eval_id = ?", [eval_id])
        db.execute("delete from eval_pending where eval_id = ?", [eval_id])
