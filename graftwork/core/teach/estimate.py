"""Before a run: how many calls, tokens and how much money (an upper bound on output)."""

from __future__ import annotations

from collections.abc import Iterator
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
from graftwork.core.teach.templates import WidgetContext, draft_messages


def stored_items(db: sqlite_utils.Database, run_id: str | None) -> set[str]:
    """The items run ``run_id`` has stored already (a resumed run skips them)."""
    if not run_id:
        return set()
    return {
        r["item_id"]
        for r in db.query(
            "SELECT item_id FROM teach_tasks WHERE run_id = ? AND stage = 'store' "
            "AND state = 'done'",
            [run_id],
        )
    }


def answered(
    db: sqlite_utils.Database,
    cfg: TeacherConfig,
    messages: list[dict[str, str]],
    *,
    fresh: bool,
    base_url: str,
) -> bool:
    """The call log holds a finished call with this request, so the run reuses it (a fresh or
    dry run never does)."""
    if fresh or cfg.dry_run:
        return False
    request = ChatRequest(cfg.model, messages, cfg.temperature, cfg.max_tokens)
    return calls.find_finished(db, request.hash(base_url)) is not None


def readable_contexts(
    ws: Workspace,
    db: sqlite_utils.Database,
    items: list[str],
    *,
    skip: set[str],
    budget: int,
    count: Counter,
    unreadable: list[tuple[str, str]],
) -> Iterator[tuple[str, WidgetContext]]:
    """(item, its context) for the items not in ``skip``; an item whose context cannot be
    read goes to ``unreadable`` with the cause (the run will fail it)."""
    for item_id in items:
        if item_id in skip:
            continue
        try:
            ctx = widget_context(ws, db, item_id, budget, count)
        except ItemError as exc:
            unreadable.append((item_id, exc.cause))
            continue
        yield item_id, ctx


def spend_bound(
    cfg: TeacherConfig, base_url: str, input_tokens: int, output_tokens: int
) -> dict[str, Any]:
    """The tokens, upper bound on cost and teacher of an estimate (every teach stage's)."""
    cost = 0.0 if cfg.dry_run else cfg.cost(input_tokens, output_tokens)
    return {
        "input_tokens": input_tokens,
        "output_tokens_max": output_tokens,
        "cost_max": round(cost, 6),
        "model": cfg.model,
        "base_url": base_url,
        "dry_run": cfg.dry_run,
    }


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
    stored = {item_id for item_id, stage in done if stage == "store"}
    for item_id, ctx in readable_contexts(
        ws, db, plan.items, skip=stored, budget=budget, count=count, unreadable=unreadable
    ):
        messages = draft_messages(ctx)
        draft_in = message_tokens(messages, count)
        for stage in opts.stages():
            if (item_id, stage) in done:
                continue
            if stage == "draft" and answered(
                db, cfg, messages, fresh=opts.fresh, base_url=base_url
            ):
                reused += 1
                continue
            stages[stage] += 1
            extra = {"draft": 0, "critique": cfg.max_tokens, "refine": 2 * cfg.max_tokens}[stage]
            input_tokens += draft_in + extra
            output_tokens += cfg.max_tokens
    calls_total = sum(stages.values())
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
        **spend_bound(cfg, base_url, input_tokens, output_tokens),
        "code_budget_tokens": budget,
        "gating": opts.gating or cfg.gating,
        "notes": plan.notes,
    }
