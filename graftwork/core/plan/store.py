"""Catalog reads and writes of the plan area (plain SQL on hot paths)."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import GraftworkError


class NoPlanError(GraftworkError):
    exit_code = 2


def latest_spec(db: sqlite_utils.Database) -> dict[str, Any]:
    rows = list(db.query("SELECT * FROM plan_specs ORDER BY id DESC LIMIT 1"))
    if not rows:
        raise NoPlanError("no plan yet: run `graftwork plan` first")
    return rows[0]


def plan_items(db: sqlite_utils.Database, spec_id: int) -> list[dict[str, Any]]:
    """The prompts of the given plan in plan order, with variables and tags decoded."""
    rows = list(db.query("SELECT * FROM plan_items WHERE spec_id = ? ORDER BY ord", [spec_id]))
    for row in rows:
        row["variables"] = json.loads(row["variables"] or "{}")
        row["tags"] = json.loads(row["tags"] or "{}")
    return rows


def answers(db: sqlite_utils.Database, area: str, stage: str) -> dict[str, dict[str, Any]]:
    rows = db.query("SELECT * FROM plan_answers WHERE area = ? AND stage = ?", [area, stage])
    return {r["item_id"]: r for r in rows}


def save_answer(
    db: sqlite_utils.Database, area: str, item_id: str, stage: str, **fields: Any
) -> None:
    row = {
        "area": area,
        "item_id": item_id,
        "stage": stage,
        "text": None,
        "finish_reason": None,
        "refusal": None,
        "verdict": None,
        "issues": None,
        "call_id": None,
        "run_id": None,
        "model": None,
        "dry_run": 0,
        "created_at": now(),
        **fields,
    }
    cols = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    with db.conn:
        db.conn.execute(f"INSERT OR REPLACE INTO plan_answers ({cols}) VALUES ({marks})", row)


def gates(db: sqlite_utils.Database, area: str) -> dict[str, dict[str, Any]]:
    rows = db.query("SELECT * FROM plan_gate WHERE area = ?", [area])
    out = {}
    for r in rows:
        r["reasons"] = json.loads(r["reasons"] or "[]")
        r["notes"] = json.loads(r["notes"] or "[]")
        out[r["item_id"]] = r
    return out


def save_gate(db: sqlite_utils.Database, area: str, item_id: str, **fields: Any) -> None:
    row = {
        "area": area,
        "item_id": item_id,
        "decided_at": now(),
        **fields,
    }
    for key in ("reasons", "notes"):
        row[key] = json.dumps(row.get(key) or [], ensure_ascii=False)
    cols = ", ".join(row)
    marks = ", ".join(f":{k}" for k in row)
    with db.conn:
        db.conn.execute(f"INSERT OR REPLACE INTO plan_gate ({cols}) VALUES ({marks})", row)


def item_answers(
    db: sqlite_utils.Database, item_id: str, area: str = "main"
) -> dict[str, dict[str, Any]]:
    """One prompt's newest answer per stage (draft, critique, refine)."""
    rows = db.query("SELECT * FROM plan_answers WHERE area = ? AND item_id = ?", [area, item_id])
    return {r["stage"]: r for r in rows}


def item_gate(db: sqlite_utils.Database, item_id: str, area: str = "main") -> dict[str, Any] | None:
    """One prompt's gate decision (reasons and notes decoded), or None."""
    rows = list(db.query("SELECT * FROM plan_gate WHERE area = ? AND item_id = ?", [area, item_id]))
    if not rows:
        return None
    row = rows[0]
    row["reasons"] = json.loads(row["reasons"] or "[]")
    row["notes"] = json.loads(row["notes"] or "[]")
    return row


def decide_by_hand(
    db: sqlite_utils.Database, item_id: str, state: str, note: str = "", *, area: str = "main"
) -> None:
    """Accept or reject an answer by hand (the workstation's keys, `graftwork plan accept`).
    The answer judged is the gate's, else the refined one, else the draft; `teach refine`
    never overrides the decision. A dry-run placeholder can be rejected, never accepted."""
    if state not in ("accepted", "rejected"):
        raise ValueError(f"state must be accepted or rejected, got {state!r}")
    prior = item_gate(db, item_id, area)
    answer, stage = (prior["answer"], prior["answer_stage"]) if prior else (None, None)
    dry_run = prior["dry_run"] if prior else 0
    if answer is None:
        found = item_answers(db, item_id, area)
        for name in ("refine", "draft"):
            row = found.get(name)
            if row is not None and row["text"] is not None:
                answer, stage, dry_run = row["text"], name, row["dry_run"]
                break
    if answer is None:
        raise NoPlanError(f"{item_id}: no answer to decide on yet")
    if state == "accepted" and dry_run:
        raise NoPlanError(f"{item_id}: a dry-run placeholder cannot be accepted")
    if state == "accepted" and not answer.strip():
        raise NoPlanError(f"{item_id}: the answer is empty; an empty answer cannot be accepted")
    save_gate(
        db,
        area,
        item_id,
        state=state,
        answer=answer,
        answer_stage=stage,
        parse_ok=prior["parse_ok"] if prior else None,
        schema_ok=prior["schema_ok"] if prior else None,
        reasons=[] if state == "accepted" else [f"manual: {note or 'rejected by hand'}"],
        notes=[f"manual: {note}"] if note and state == "accepted" else [],
        verdict=prior["verdict"] if prior else None,
        mode="manual",
        decided_by="manual",
        run_id=None,
        dry_run=dry_run or 0,
    )
