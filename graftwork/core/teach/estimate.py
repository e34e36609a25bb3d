"""Before a run: how many calls, tokens and how much money (an upper bound on output)."""

from __future__ import annotations

from typing import Any

import sqlite_utils

from graftwork.core.base.errors import ItemError
from graftwork.core.base.workspace import Workspace
from graftwork.core.teach import calls
from graftwork.core.teach.config import TeacherConfig, code_budget
from graftwork.core.teach.plan import (
    Counter,
    TeachOptions,
    make_plan,
    message_tokens,
    widget_context,
)
from graftwork.core.teach.port import ChatRequest
from graftwork.core.teach.templates import draft_messages


def estimate(
    ws: Workspace,
    db: sqlite_utils.Database,
    cfg: TeacherConfig,
    options: TeachOptions,
    count: Counter,
) -> dict[str, Any]:
    """Draft inputs are counted exactly; critique/refine inputs add the draft (at most
    max_tokens); outputs are bounded by max_tokens. Refinements are counted for every item
    although they only happen when the critique does not pass ("up to")."""
    plan = make_plan(db, options, dry_run=cfg.dry_run)
    opts = plan.options
    budget = code_budget(cfg, ws)
    done: set[tuple[str, str]] = set()
    if plan.run_id:
        done = {
            (r["item_id"], r["stage"])
            for r in db.query(
                "SELECT item_id, stage FROM teach_tasks WHERE run_id = ? AND state = 'done'",
                [plan.run_id],
            )
        }
    base_url = cfg.public_base_url()
    stages = {"draft": 0, "critique": 0, "refine": 0}
    reused = input_tokens = output_tokens = 0
    unreadable: list[tuple[str, str]] = []
    for item_id in plan.items:
        if (item_id, "store") in done:
            continue
        try:
            ctx = widget_context(ws, db, item_id, budget, count)
        except ItemError as exc:
            unreadable.append((item_id, exc.cause))
            continue
        messages = draft_messages(ctx)
        draft_in = message_tokens(messages, count)
        request = ChatRequest(cfg.model, messages, cfg.temperature, cfg.max_tokens)
        for stage in opts.stages():
            if (item_id, stage) in done:
                continue
            if (
                stage == "draft"
                and not opts.fresh
                and not cfg.dry_run
                and calls.find_finished(db, request.hash(base_url)) is not None
            ):
                reused += 1
                continue
            stages[stage] += 1
            extra = {"draft": 0, "critique": cfg.max_tokens, "refine": 2 * cfg.max_tokens}[stage]
            input_tokens += draft_in + extra
            output_tokens += cfg.max_tokens
    calls_total = sum(stages.values())
    cost = 0.0 if cfg.dry_run else cfg.cost(input_tokens, output_tokens)
    return {
        "run_id": plan.run_id,
        "area": opts.area,
        "items": len(plan.items),
        "items_unreadable": unreadable,
        "skipped": plan.skipped,
        "stages": opts.stages(),
        "calls": calls_total,
        "calls_by_stage": stages,
        "calls_reused": reused,
        "input_tokens": input_tokens,
        "output_tokens_max": output_tokens,
        "cost_max": round(cost, 6),
        "model": cfg.model,
        "base_url": base_url,
        "dry_run": cfg.dry_run,
        "code_budget_tokens": budget,
        "gating": opts.gating or cfg.gating,
        "notes": plan.notes,
    }
