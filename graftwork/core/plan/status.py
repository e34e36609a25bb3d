"""Where each planned prompt stands, for the workstation's item list and dashboard:
planned -> drafted -> critiqued -> refined -> accepted | rejected (with the gate's reasons)."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from graftwork.core.plan.records import read_view

STAGES = ("planned", "drafted", "critiqued", "refined", "accepted", "rejected")


def stage_of(drafted: bool, critiqued: bool, refined: bool, gate_state: str | None) -> str:
    """The furthest stage a prompt reached: the gate's decision once there is one."""
    if gate_state:
        return gate_state
    if refined:
        return "refined"
    if critiqued:
        return "critiqued"
    return "drafted" if drafted else "planned"


def item_rows(db: sqlite_utils.Database, area: str = "main") -> list[dict[str, Any]]:
    """One row per prompt of the newest plan: id, category, prompt, stage, reasons, the draft,
    critique and refined answer (side by side in the workstation) and who decided."""
    view = read_view(db, area)
    out = []
    for row in view.items:
        iid = row["item_id"]
        draft, crit, refined, gate = (
            view.drafts.get(iid),
            view.critiques.get(iid),
            view.refined.get(iid),
            view.gates.get(iid),
        )
        stage = stage_of(
            draft is not None, crit is not None, refined is not None, gate and gate["state"]
        )
        out.append(
            {
                "id": iid,
                "category": row["category"],
                "prompt": row["prompt"],
                "tags": row["tags"],
                "stage": stage,
                "reasons": gate["reasons"] if gate else [],
                "notes": gate["notes"] if gate else [],
                "decided_by": gate["decided_by"] if gate else None,
                "draft": draft["text"] if draft else None,
                "critique": crit["text"] if crit else None,
                "verdict": crit["verdict"] if crit else None,
                "refined": refined["text"] if refined else None,
                "dry_run": bool((gate or draft or {}).get("dry_run")),
            }
        )
    return out


def counts(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Prompts per stage, and per category and stage (the dashboard)."""
    by_stage = dict.fromkeys(STAGES, 0)
    by_category: dict[str, dict[str, int]] = {}
    for r in rows:
        by_stage[r["stage"]] += 1
        cat = by_category.setdefault(r["category"], dict.fromkeys(STAGES, 0))
        cat[r["stage"]] += 1
    return {"by_stage": by_stage, "by_category": by_category}
