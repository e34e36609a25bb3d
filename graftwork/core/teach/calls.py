"""The teacher call log (table teacher_calls): one row per logical call, written before the
call is sent and completed after it, so a crash never loses a finished call and a finished
call is never sent twice (the request hash finds it)."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from graftwork.core.base.catalog.db import now
from graftwork.core.teach.port import ChatRequest, Completion


def find_finished(
    db: sqlite_utils.Database, request_hash: str, *, run_id: str | None = None
) -> dict[str, Any] | None:
    """The newest successful real (not dry-run) call with this request hash (of one run if given)."""
    sql = "SELECT * FROM teacher_calls WHERE request_hash = ? AND status = 'ok'"
    params: list[Any] = [request_hash]
    if run_id is not None:
        sql += " AND run_id = ?"
        params.append(run_id)
    rows = list(db.query(sql + " ORDER BY id DESC LIMIT 1", params))
    return rows[0] if rows else None


def _write(db: sqlite_utils.Database, sql: str, params: dict[str, Any]) -> int:
    # Plain SQL on the hot path: sqlite_utils' table helpers re-read the schema on every call.
    with db.conn:
        return db.conn.execute(sql, params).lastrowid or 0


def start(
    db: sqlite_utils.Database,
    *,
    request: ChatRequest,
    request_hash: str,
    base_url: str,
    run_id: str | None,
    item_id: str | None,
    stage: str,
) -> int:
    return _write(
        db,
        (
            "INSERT INTO teacher_calls (request_hash, run_id, item_id, stage, model, base_url, request, "
            "status, attempts, started_at) VALUES (:request_hash, :run_id, :item_id, :stage, :model, "
            ":base_url, :request, 'started', 0, :started_at)"
        ),
        {
            "request_hash": request_hash,
            "run_id": run_id,
            "item_id": item_id,
            "stage": stage,
            "model": request.model,
            "base_url": base_url,
            "request": json.dumps(request.payload(), ensure_ascii=False),
            "started_at": now(),
        },
    )


def finish_ok(
    db: sqlite_utils.Database, call_id: int, done: Completion, cost: float, *, status: str = "ok"
) -> None:
    _write(
        db,
        (
            "UPDATE teacher_calls SET status = :status, model = :model, text = :text, response = :response, "
            "input_tokens = :input_tokens, output_tokens = :output_tokens, latency_ms = :latency_ms, "
            "cost = :cost, attempts = :attempts, retries = :retries, ended_at = :ended_at WHERE id = :id"
        ),
        {
            "id": call_id,
            "status": status,
            "model": done.model,
            "text": done.text,
            "response": json.dumps(done.raw, ensure_ascii=False) if done.raw is not None else None,
            "input_tokens": done.input_tokens,
            "output_tokens": done.output_tokens,
            "latency_ms": done.latency_ms,
            "cost": cost,
            "attempts": done.attempts,
            "retries": json.dumps(done.retries),
            "ended_at": now(),
        },
    )


def finish_error(
    db: sqlite_utils.Database,
    call_id: int,
    error: str,
    *,
    status: str = "error",
    attempts: int = 0,
    retries: list[str] | None = None,
    latency_ms: int = 0,
) -> None:
    _write(
        db,
        (
            "UPDATE teacher_calls SET status = :status, error = :error, attempts = :attempts, "
            "retries = :retries, latency_ms = :latency_ms, ended_at = :ended_at WHERE id = :id"
        ),
        {
            "id": call_id,
            "status": status,
            "error": error,
            "attempts": attempts,
            "retries": json.dumps(retries or []),
            "latency_ms": latency_ms,
            "ended_at": now(),
        },
    )


def list_calls(
    db: sqlite_utils.Database, *, limit: int = 50, errors: bool = False, run_id: str | None = None
) -> list[dict[str, Any]]:
    """Newest first. errors: calls that failed, or needed retries on the way."""
    where, params = [], []
    if errors:
        where.append(
            "(error IS NOT NULL OR status NOT IN ('ok', 'dry-run') OR (retries IS NOT NULL AND retries != '[]'))"
        )
    if run_id:
        where.append("run_id = ?")
        params.append(run_id)
    sql = "SELECT * FROM teacher_calls"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY id DESC LIMIT ?"
    params.append(limit)
    return list(db.query(sql, params))
