"""Schema of the plan area. Append new migrations at the end; never edit a shipped one."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("graftwork.plan")


@migrations()
def m001_plan(db: Database) -> None:
    # One row per `graftwork plan`: the spec as read (path, hash, parsed) and its warnings.
    db["plan_specs"].create(
        {
            "id": int,
            "name": str,
            "version": str,
            "path": str,
            "sha256": str,
            "spec": str,
            "warnings": str,
            "counts": str,
            "created_at": str,
        },
        pk="id",
    )
    # The planned prompts (items.source = 'plan' rows carry the same ids). spec_id is the
    # newest plan that produced the prompt; prompts a newer plan dropped keep their older
    # spec_id and are no longer worked on.
    db["plan_items"].create(
        {
            "item_id": str,
            "spec_id": int,
            "ord": int,
            "category": str,
            "template_id": str,
            "prompt": str,
            "variables": str,
            "tags": str,
            "planned_at": str,
        },
        pk="item_id",
    )
    db["plan_items"].create_index(["spec_id", "ord"])
    # The newest teacher answer per (area, item, stage); area main | sample keeps a sample run
    # apart from the full run. stage: draft | critique | refine.
    db["plan_answers"].create(
        {
            "area": str,
            "item_id": str,
            "stage": str,
            "text": str,
            "finish_reason": str,
            "refusal": str,
            "verdict": str,
            "issues": str,
            "call_id": int,
            "run_id": str,
            "model": str,
            "dry_run": int,
            "created_at": str,
        },
        pk=("area", "item_id", "stage"),
    )
    # The gate's decision per (area, item): the answer that was judged, why, and by whom
    # (gate | manual). reasons: the problems that rejected it; notes: the ones that did not.
    db["plan_gate"].create(
        {
            "area": str,
            "item_id": str,
            "state": str,
            "answer": str,
            "answer_stage": str,
            "parse_ok": int,
            "schema_ok": int,
            "reasons": str,
            "notes": str,
            "verdict": str,
            "mode": str,
            "decided_by": str,
            "run_id": str,
            "dry_run": int,
            "decided_at": str,
        },
        pk=("area", "item_id"),
    )


@migrations()
def m002_plan_qa(db: Database) -> None:
    # What the newest `graftwork qa` of an area removed, so the recipe's examples (build,
    # export, train) leave those records out just as dataset_<v>_clean.jsonl does.
    db["plan_qa"].create(
        {"area": str, "item_id": str, "rule": str, "detail": str, "checked_at": str},
        pk=("area", "item_id"),
    )
