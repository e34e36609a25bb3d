"""`graftwork teach categories`: the teacher puts each widget in one category of the project's
list (`project.categories`), through the teach machinery: the call log and reuse by request
hash (`runner.Engine`), teach_runs/teach_tasks for resume, the estimate before, dry runs,
--limit/--sample and the exclusive `teach.*` job kind.

A reply that names no listed category is asked once more (the bad reply quoted back); a second
miss records the item as failed with both replies as the reason. Results go to
`item_categories` (the sample area: teach_samples, never item_categories; a dry run: nowhere).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils

from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.project import load_project
from graftwork.core.base.workspace import Workspace
from graftwork.core.curate import categories as store
from graftwork.core.teach.config import TeacherConfig, code_budget
from graftwork.core.teach.estimate import (
    answered,
    readable_contexts,
    spend_bound,
    stored_items,
)
from graftwork.core.teach.plan import (
    NOTHING_TO_RESUME,
    Counter,
    check_at_least_one,
    message_tokens,
    pick_widgets,
    resumed_run,
    widget_context,
)
from graftwork.core.teach.runner import (
    LOG_EVERY,
    DryRunTeacher,
    Engine,
    Progress,
    TeacherFactory,
    announce_run,
    drive_run,
    open_run,
    record_failure,
    run_items,
    save_sample,
    spend,
)
from graftwork.core.teach.templates import WidgetContext

STAGE = "category"
RETRY_STAGE = "category-retry"

SYSTEM = """[stage:category] You sort Übersicht desktop widgets for macOS (React/JSX) into \
categories by what they show. Given one widget, reply with exactly one category from the list \
the user gives, written as listed, and nothing else: no explanation, no punctuation."""


def category_messages(ctx: WidgetContext, names: list[str]) -> list[dict[str, str]]:
    listed = ", ".join(names)
    return [
        {"role": "system", "content": SYSTEM},
        {
            "role": "user",
            "content": f"{ctx.render()}\n\nCategories: {listed}\n"
            "Reply with the one category that fits this widget best.",
        },
    ]


def retry_messages(
    first: list[dict[str, str]], reply: str, names: list[str]
) -> list[dict[str, str]]:
    """The same conversation, the unusable reply quoted back with the list again."""
    shown = " ".join(reply.split())[:80] or "(empty)"
    return [
        *first,
        {"role": "assistant", "content": reply},
        {
            "role": "user",
            "content": f"{shown!r} is not one of the categories. Categories: {', '.join(names)}\n"
            "Reply with exactly one of them, as written, and nothing else.",
        },
    ]


@dataclass
class CategoryOptions:
    limit: int | None = None
    widgets: list[str] | None = None
    sample: int | None = None  # N widgets into the sample area (item_categories untouched)
    resume: bool = False
    fresh: bool = False

    def __post_init__(self) -> None:
        check_at_least_one(self, ("limit", "sample"))

    @property
    def area(self) -> str:
        return "categories-sample" if self.sample else "categories"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class CategoryPlan:
    options: CategoryOptions
    items: list[str]
    categories: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    run_id: str | None = None
    notes: list[str] = field(default_factory=list)


def select_items(
    db: sqlite_utils.Database, opts: CategoryOptions
) -> tuple[list[str], list[tuple[str, str]]]:
    """JSX widgets without a category, not excluded by curation, in manifest order; named
    widgets (--widgets) are asked again even when they have one."""
    done = set() if opts.widgets or opts.sample else set(store.item_categories(db))
    return pick_widgets(
        db,
        opts.widgets,
        opts.sample or opts.limit,
        done=done.__contains__,
        done_reason="already has a category",  # never shown: named widgets are asked again
    )


def make_plan(
    ws: Workspace, db: sqlite_utils.Database, opts: CategoryOptions, *, dry_run: bool
) -> CategoryPlan:
    names = list(load_project(ws).categories)
    if opts.resume and (run := resumed_run(db, opts.area, dry_run)):
        options = CategoryOptions(**run.params)
        return CategoryPlan(options, run.items, names, run_id=run.run_id, notes=[run.note])
    items, skipped = select_items(db, opts)
    notes = [NOTHING_TO_RESUME] if opts.resume else []
    return CategoryPlan(opts, items, names, skipped, notes=notes)


class CategoryRun:
    """One run: each item gets one call (two when the first reply names no category)."""

    def __init__(
        self,
        ws: Workspace,
        db: sqlite_utils.Database,
        cfg: TeacherConfig,
        engine: Engine,
        count: Counter,
        plan: CategoryPlan,
        job: Job | None,
    ) -> None:
        self.ws, self.db, self.cfg, self.engine, self.plan, self.job = (
            ws,
            db,
            cfg,
            engine,
            plan,
            job,
        )
        self.count = count
        self.budget = code_budget(cfg, ws)
        self.result = StageResult(skipped=list(plan.skipped))
        self.by_category: dict[str, int] = {}
        self._progress = Progress(job, engine.tally, log_every=LOG_EVERY)

    async def item(self, item_id: str) -> None:
        stored = self.engine.done_task(item_id, "store")
        if stored is not None:  # finished before a crash or a cancel: count it, ask nothing
            self._count(item_id, stored.get("category"), stored.get("reason"), earlier=True)
            return
        names = self.plan.categories
        ctx = widget_context(self.ws, self.db, item_id, self.budget, self.count)
        first = category_messages(ctx, names)
        out = await self.engine.stage(item_id, STAGE, first)
        category = store.match_category(out.text, names)
        call_id, replies = out.call_id, [out.text]
        if category is None:
            again = await self.engine.stage(
                item_id, RETRY_STAGE, retry_messages(first, out.text, names)
            )
            category = store.match_category(again.text, names)
            call_id = again.call_id
            replies.append(again.text)
        reason = None
        if category is None:
            quoted = " then ".join(repr(" ".join(r.split())[:60]) for r in replies)
            reason = f"the teacher replied {quoted}: not one of the {len(names)} categories"
        self._store(item_id, category, reason, call_id)
        self.engine.save_task(
            item_id,
            "store",
            "done",
            result={"category": category, "reason": reason, "area": self.plan.options.area},
            call_id=call_id,
        )
        self._count(item_id, category, reason)

    def _store(self, item_id: str, category: str | None, reason: str | None, call_id: int) -> None:
        if self.plan.options.sample:
            save_sample(
                self.db,
                self.engine.run_id,
                item_id,
                category or "",
                "accepted" if category else "failed",
                {"stage": STAGE, "model": self.cfg.model, "call_id": call_id},
                reason,
            )
            return
        if self.cfg.dry_run:
            return  # placeholders never become categories
        store.record(
            self.db,
            item_id,
            category=category,
            reason=reason,
            model=self.cfg.model,
            call_id=call_id,
            run_id=self.engine.run_id,
        )

    def _count(
        self, item_id: str, category: str | None, reason: str | None, *, earlier: bool = False
    ) -> None:
        if category is None:
            cause = reason or "no category"
            self.result.failed.append((item_id, cause))
            if self.job is not None and not earlier:
                self.job.item_failed(item_id, cause)
        else:
            self.result.ok += 1
            self.by_category[category] = self.by_category.get(category, 0) + 1
        self._progress(item_id, f"{category or 'failed'}{' (earlier)' if earlier else ''}")

    def _failed(self, item_id: str, cause: str) -> None:
        record_failure(self.result, self.job, item_id, cause)

    async def run(self) -> None:
        await run_items(
            self.plan.items,
            self.item,
            self._failed,
            self.engine,
            job=self.job,
            what="teach categories",
        )

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.engine.run_id,
            "area": self.plan.options.area,
            "dry_run": self.cfg.dry_run,
            "items": len(self.plan.items),
            "categorized": self.result.ok,
            "failed": len(self.result.failed),
            "by_category": dict(sorted(self.by_category.items())),
            **spend(self.engine.tally, self.cfg),
        }


def teach_categories(
    ws: Workspace,
    *,
    cfg: TeacherConfig,
    teacher_factory: TeacherFactory,
    count: Counter,
    options: CategoryOptions,
    job: Job | None = None,
) -> StageResult:
    """The stage (job kind `teach.categories`). Call it from a plain thread."""
    with ws.catalog() as db:
        plan = make_plan(ws, db, options, dry_run=cfg.dry_run)
        teacher = DryRunTeacher(cfg.model) if cfg.dry_run else teacher_factory(cfg)
        run_id = open_run(db, plan, cfg, job)  # type: ignore[arg-type]  # same shape as Plan
        engine = Engine(db, cfg, teacher, run_id=run_id, fresh=plan.options.fresh)
        run = CategoryRun(ws, db, cfg, engine, count, plan, job)
        what = f"{len(plan.items)} widget(s) into {len(plan.categories)} categories"
        announce_run(job, run_id, plan.notes, what, len(plan.items), cfg, teacher)
        result = drive_run(db, run_id, run)
        if not plan.options.sample and not cfg.dry_run:
            from graftwork.core.edits import refresh_report

            refresh_report(ws, db)  # AI_category follows
        return result


def estimate(
    ws: Workspace,
    db: sqlite_utils.Database,
    cfg: TeacherConfig,
    options: CategoryOptions,
    count: Counter,
) -> dict[str, Any]:
    """One call per widget (a retry, only after an unusable reply, is not counted); output
    bounded by max_tokens; calls already answered (same request) are reused, not counted."""
    plan = make_plan(ws, db, options, dry_run=cfg.dry_run)
    budget = code_budget(cfg, ws)
    done = stored_items(db, plan.run_id)
    base_url = cfg.public_base_url()
    sent = reused = input_tokens = output_tokens = 0
    unreadable: list[tuple[str, str]] = []
    for _item_id, ctx in readable_contexts(
        ws, db, plan.items, skip=done, budget=budget, count=count, unreadable=unreadable
    ):
        messages = category_messages(ctx, plan.categories)
        if answered(db, cfg, messages, fresh=plan.options.fresh, base_url=base_url):
            reused += 1
            continue
        sent += 1
        input_tokens += message_tokens(messages, count)
        output_tokens += cfg.max_tokens
    return {
        "run_id": plan.run_id,
        "area": plan.options.area,
        "items": len(plan.items),
        "items_unreadable": unreadable,
        "skipped": plan.skipped,
        "categories": plan.categories,
        "calls": sent,
        "calls_reused": reused,
        **spend_bound(cfg, base_url, input_tokens, output_tokens),
        "notes": plan.notes,
    }
