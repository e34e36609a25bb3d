"""The plan recipe's records as the seed's files have them, read from the catalog."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from graftwork.core.plan import store


@dataclass
class PlanView:
    """Everything the exports need, read once: the newest plan, its prompts, the answers
    and decisions of one area."""

    spec: dict[str, Any]  # plan_specs row, with "parsed" (the spec as a dict)
    items: list[dict[str, Any]]
    drafts: dict[str, dict[str, Any]]
    critiques: dict[str, dict[str, Any]]
    refined: dict[str, dict[str, Any]]
    gates: dict[str, dict[str, Any]]
    area: str

    @property
    def version(self) -> str:
        return self.spec["version"]

    @property
    def system_prompt(self) -> str:
        return (self.spec["parsed"].get("system_prompt") or "").strip()


def read_view(db: sqlite_utils.Database, area: str = "main") -> PlanView:
    spec = dict(store.latest_spec(db))
    spec["parsed"] = json.loads(spec["spec"])
    items = store.plan_items(db, spec["id"])
    if area == "sample":
        done = {
            r["item_id"] for r in db.query("SELECT item_id FROM plan_answers WHERE area = 'sample'")
        }
        items = [r for r in items if r["item_id"] in done]
    return PlanView(
        spec,
        items,
        store.answers(db, area, "draft"),
        store.answers(db, area, "critique"),
        store.answers(db, area, "refine"),
        store.gates(db, area),
        area,
    )


def _base(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["item_id"],
        "category": row["category"],
        "tags": row["tags"],
        "prompt": row["prompt"],
    }


def draft_records(view: PlanView) -> list[dict[str, Any]]:
    out = []
    for row in view.items:
        d = view.drafts.get(row["item_id"])
        if d is None:
            continue
        out.append(
            {
                **_base(row),
                "draft": d["text"],
                "finish_reason": d["finish_reason"],
                "refusal": d["refusal"],
                "model": d["model"],
                "call_id": d["call_id"],
                "dry_run": bool(d["dry_run"]),
            }
        )
    return out


def critique_records(view: PlanView) -> list[dict[str, Any]]:
    out = []
    for row in view.items:
        c = view.critiques.get(row["item_id"])
        if c is None:
            continue
        out.append(
            {
                "id": row["item_id"],
                "category": row["category"],
                "verdict": c["verdict"],
                "issues": json.loads(c["issues"] or "[]"),
                "critique": c["text"],
                "model": c["model"],
                "call_id": c["call_id"],
                "dry_run": bool(c["dry_run"]),
            }
        )
    return out


def answer_value(text: str) -> Any:
    """A JSON answer as its object (dataset lines hold the object, not a string of it)."""
    try:
        return json.loads(text)
    except ValueError:
        return None


def dataset_records(view: PlanView, state: str) -> list[dict[str, Any]]:
    """Accepted (state 'accepted') or rejected records, in plan order."""
    wants_json = view.spec["parsed"].get("contract", {}).get("format") == "json"
    out = []
    for row in view.items:
        g = view.gates.get(row["item_id"])
        if g is None or g["state"] != state:
            continue
        rec: dict[str, Any] = {
            **_base(row),
            "system": view.system_prompt,
            "response": g["answer"],
        }
        if wants_json:
            rec["response_json"] = answer_value(g["answer"] or "")
        rec.update(
            {
                "answer_stage": g["answer_stage"],
                "critique_verdict": g["verdict"],
                "gating": {
                    "mode": g["mode"],
                    "reasons": g["reasons"],
                    "notes": g["notes"],
                    "by": g["decided_by"],
                },
                "dry_run": bool(g["dry_run"]),
            }
        )
        out.append(rec)
    return out


def stats(view: PlanView) -> dict[str, Any]:
    gates = [view.gates[r["item_id"]] for r in view.items if r["item_id"] in view.gates]
    accepted = [g for g in gates if g["state"] == "accepted"]
    parsed = [g for g in gates if g["parse_ok"] is not None]
    schema = [g for g in gates if g["schema_ok"] is not None]
    reasons: dict[str, int] = {}
    for g in gates:
        for rule in {r.split(":")[0] for r in g["reasons"]}:
            reasons[rule] = reasons.get(rule, 0) + 1
    per_category: dict[str, dict[str, int]] = {}
    for r in view.items:
        c = per_category.setdefault(
            r["category"], {"planned": 0, "drafted": 0, "accepted": 0, "rejected": 0}
        )
        c["planned"] += 1
        c["drafted"] += r["item_id"] in view.drafts
        g = view.gates.get(r["item_id"])
        if g is not None:
            c[g["state"]] += 1

    def rate(part: int, whole: int) -> float | None:
        return round(part / whole, 4) if whole else None

    dry = sum(1 for g in gates if g["dry_run"])
    return {
        "dataset": view.spec["name"],
        "version": view.version,
        "area": view.area,
        "planned": len(view.items),
        "drafted": sum(1 for r in view.items if r["item_id"] in view.drafts),
        "critiqued": sum(1 for r in view.items if r["item_id"] in view.critiques),
        "refined": sum(1 for r in view.items if r["item_id"] in view.refined),
        "gated": len(gates),
        "accepted": len(accepted),
        "rejected": len(gates) - len(accepted),
        "dry_run_placeholders": dry,
        "note": "dry-run placeholders are never accepted: 0 % pass rates here mean no teacher was asked"
        if dry
        else "",
        "parse_pass_rate": rate(sum(g["parse_ok"] for g in parsed), len(parsed)),
        "schema_pass_rate": rate(sum(g["schema_ok"] for g in schema), len(schema)),
        "rejected_by_rule": dict(sorted(reasons.items())),
        "per_category": per_category,  # in plan order
        "modes": sorted({g["mode"] for g in gates if g["mode"]}),
    }
