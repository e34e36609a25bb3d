"""Schema of the teach area. Append new migrations at the end; never edit a shipped one."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("graftwork.teach")


@migrations()
def m001_teach(db: Database) -> None:
    # One row per logical teacher call (retries included), written before the call is sent
    # (status "started") and completed after it (ok | error | dry-run). request_hash identifies
    # the request (model, messages, parameters; never a key) so a finished call is never
    # sent twice: a run that finds an ok row with the same hash reuses its response.
    db["teacher_calls"].create(
        {
            "id": int,
            "request_hash": str,
            "run_id": str,
            "item_id": str,
            "stage": str,
            "model": str,
            "base_url": str,
            "request": str,
            "response": str,
            "text": str,
            "status": str,
            "error": str,
            "retries": str,
            "attempts": int,
            "input_tokens": int,
            "output_tokens": int,
            "latency_ms": int,
            "cost": float,
            "started_at": str,
            "ended_at": str,
        },
        pk="id",
    )
    db["teacher_calls"].create_index(["request_hash", "status"])
    db["teacher_calls"].create_index(["run_id"])
    # A run remembers what it was asked to do, so `--resume` repeats exactly that.
    db["teach_runs"].create(
        {
            "id": str,
            "area": str,
            "job_id": str,
            "params": str,
            "config": str,
            "items": str,
            "state": str,
            "dry_run": int,
            "created_at": str,
            "updated_at": str,
            "summary": str,
        },
        pk="id",
    )
    # Each (run, item, stage) is done once; its result is read back on resume.
    # stage: draft | critique | refine | store
    db["teach_tasks"].create(
        {
            "run_id": str,
            "item_id": str,
            "stage": str,
            "state": str,
            "result": str,
            "call_id": int,
            "error": str,
            "updated_at": str,
        },
        pk=("run_id", "item_id", "stage"),
    )
    # The sample area (`teach prompts --sample N`): results live here, never in prompt_revisions.
    db["teach_samples"].create(
        {
            "id": int,
            "run_id": str,
            "item_id": str,
            "text": str,
            "state": str,
            "provenance": str,
            "note": str,
            "created_at": str,
        },
        pk="id",
    )
    db["teach_samples"].create_index(["run_id", "item_id"], unique=True)


@migrations()
def m002_item_categories(db: Database) -> None:
    # `teach categories`: the newest category the teacher gave each widget (state ok) or why it
    # could not (state failed, reason). Dry runs and the sample area never write here.
    db["item_categories"].create(
        {
            "item_id": str,
            "category": str,
            "state": str,
            "reason": str,
            "model": str,
            "call_id": int,
            "run_id": str,
            "updated_at": str,
        },
        pk="item_id",
    )
