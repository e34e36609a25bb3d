"""Teach runs: draft (-> critique -> refine) -> gate -> store, for many widgets at once.

Crash safety, in order of writes: a call row is written before each call and completed after
it; the (run, item, stage) task is marked done with its result right after; the prompt
revision carries the task key in its provenance, so a store interrupted before its task row
is written is recognised and never stored twice. On resume, done stages are read back and
finished calls (same request hash) are reused instead of sent.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import sqlite_utils

from graftwork.core.base.aio import all_or_cancel_job
from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import ItemError
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts import prompts
from graftwork.core.prompts.files import mirror_missing
from graftwork.core.teach import calls
from graftwork.core.teach.config import TeacherConfig, code_budget
from graftwork.core.teach.gating import Critique, gate, parse_critique
from graftwork.core.teach.plan import (
    UNFINISHED,
    Counter,
    Plan,
    TeachOptions,
    make_plan,
    widget_context,
)
from graftwork.core.teach.port import (
    ChatRequest,
    Completion,
    Teacher,
    TeacherAuthError,
    TeacherCallError,
    TeacherStopError,
)
from graftwork.core.teach.templates import (
    critique_messages,
    draft_messages,
    dry_run_reply,
    refine_messages,
)

TeacherFactory = Callable[[TeacherConfig], Teacher]
LOG_EVERY = 2.0  # seconds between "cost so far" lines in the job log
INTERRUPTED = "the run stopped before the reply was logged"
T = TypeVar("T")


class DryRunTeacher:
    """Placeholder replies, no network at all."""

    base_url = "dry-run"

    def __init__(self, model: str) -> None:
        self.model = model

    async def complete(self, request: ChatRequest) -> Completion:
        system = request.messages[0]["content"]
        user = request.messages[-1]["content"]
        stage = m.group(1) if (m := re.search(r"\[stage:(\w+)\]", system)) else "draft"
        name = m.group(1).strip() if (m := re.search(r"^Widget: (.+)$", user, re.M)) else "widget"
        text = dry_run_reply(stage, name, user)
        return Completion(
            text=text, model=self.model, input_tokens=0, output_tokens=0, latency_ms=0
        )

    async def close(self) -> None:
        return None


@dataclass
class Tally:
    sent: int = 0
    reused: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    cost: float = 0.0
    outcomes: dict[str, int] = field(default_factory=dict)


@dataclass
class StageOut:
    text: str
    call_id: int
    reused: bool = False
    raw: dict[str, Any] | None = None  # the reply body of a call sent now (None when reused)


def spend(tally: Tally, cfg: TeacherConfig) -> dict[str, Any]:
    """The calls, tokens and cost of a run: the tail of every teach stage's summary."""
    return {
        "calls_sent": tally.sent,
        "calls_reused": tally.reused,
        "input_tokens": tally.input_tokens,
        "output_tokens": tally.output_tokens,
        "cost": round(tally.cost, 6),
        "model": cfg.model,
    }


def record_failure(
    result: StageResult,
    job: Job | None,
    item_id: str,
    cause: str,
    *,
    outcomes: dict[str, int] | None = None,
    message: str = "",
) -> None:
    """One item failed: in the result (and the outcome counts), logged, and counted as done."""
    result.failed.append((item_id, cause))
    if outcomes is not None:
        outcomes["failed"] = outcomes.get("failed", 0) + 1
    if job is not None:
        job.item_failed(item_id, cause)
        job.advance(item_id=item_id, message=message)


class Progress:
    """Per item the job advances with the cost so far; with ``log_every`` a line of calls,
    tokens and cost goes to the job log every few seconds (and after the last item), not one
    per item."""

    def __init__(self, job: Job | None, tally: Tally, *, log_every: float | None = None) -> None:
        self.job, self.tally, self.log_every = job, tally, log_every
        self._last_log = time.monotonic()

    def __call__(self, item_id: str, what: str) -> None:
        job, tally = self.job, self.tally
        if job is None:
            return
        job.advance(item_id=item_id, message=f"{what} · cost so far {tally.cost:.4f}")
        if self.log_every is None:
            return
        last = job.done >= (job.total or 0)
        if last or time.monotonic() - self._last_log >= self.log_every:
            self._last_log = time.monotonic()
            job.log(
                f"{job.done}/{job.total} widgets · calls sent {tally.sent}, reused "
                f"{tally.reused} · {tally.input_tokens:,} in / {tally.output_tokens:,} out tokens "
                f"· cost so far {tally.cost:.4f}"
            )


def save_sample(
    db: sqlite_utils.Database,
    run_id: str | None,
    item_id: str,
    text: str,
    state: str,
    provenance: dict[str, Any],
    note: str | None = None,
) -> None:
    """A result of a sample run (teach_samples; `teach samples` shows them)."""
    with db.conn:
        db.conn.execute(
            "INSERT OR REPLACE INTO teach_samples (run_id, item_id, text, state, provenance, note, "
            "created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [run_id, item_id, text, state, json.dumps(provenance, ensure_ascii=False), note, now()],
        )


class Engine:
    """Sends (or reuses) calls and keeps the call log and task table; one per run, one thread."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        cfg: TeacherConfig,
        teacher: Teacher,
        *,
        run_id: str | None,
        fresh: bool,
    ) -> None:
        self.db = db
        self.cfg = cfg
        self.teacher = teacher
        self.run_id = run_id
        self.fresh = fresh
        self.tally = Tally()
        self.stopped: TeacherStopError | None = None  # after a 401/403/404 nothing else is sent
        self.tasks: dict[tuple[str, str], dict[str, Any]] = {}
        if run_id:
            for row in db.query("SELECT * FROM teach_tasks WHERE run_id = ?", [run_id]):
                self.tasks[(row["item_id"], row["stage"])] = row

    def request(self, messages: list[dict[str, str]]) -> ChatRequest:
        return ChatRequest(self.cfg.model, messages, self.cfg.temperature, self.cfg.max_tokens)

    async def call(
        self, item_id: str | None, stage: str, messages: list[dict[str, str]]
    ) -> StageOut:
        request = self.request(messages)
        request_hash = request.hash(self.teacher.base_url)
        if not self.cfg.dry_run and (self.run_id or not self.fresh):
            # fresh: ignore earlier runs' calls, yet never repeat one of this run's own (a crash
            # can land between logging a reply and marking its task done).
            hit = calls.find_finished(
                self.db, request_hash, run_id=self.run_id if self.fresh else None
            )
            if hit is not None:
                self.tally.reused += 1
                return StageOut(hit["text"], hit["id"], reused=True)
        if self.stopped is not None:
            raise self.stopped
        call_id = calls.start(
            self.db,
            request=request,
            request_hash=request_hash,
            base_url=self.teacher.base_url,
            run_id=self.run_id,
            item_id=item_id,
            stage=stage,
        )
        started = time.monotonic()
        try:
            done = await self.teacher.complete(request)
        except TeacherStopError as exc:
            status = "auth-error" if isinstance(exc, TeacherAuthError) else "stop-error"
            calls.finish_error(self.db, call_id, str(exc), status=status, attempts=1)
            self.stopped = exc
            raise
        except TeacherCallError as exc:
            calls.finish_error(
                self.db,
                call_id,
                str(exc),
                attempts=exc.attempts,
                retries=exc.retries,
                latency_ms=int((time.monotonic() - started) * 1000),
            )
            raise
        except asyncio.CancelledError:
            calls.finish_error(
                self.db, call_id, "cancelled before the reply arrived", status="cancelled"
            )
            raise
        cost = 0.0 if self.cfg.dry_run else self.cfg.cost(done.input_tokens, done.output_tokens)
        calls.finish_ok(
            self.db, call_id, done, cost, status="dry-run" if self.cfg.dry_run else "ok"
        )
        self.tally.sent += 1
        self.tally.input_tokens += done.input_tokens
        self.tally.output_tokens += done.output_tokens
        self.tally.cost += cost
        return StageOut(done.text, call_id, raw=done.raw)

    def save_task(
        self,
        item_id: str,
        stage: str,
        state: str,
        *,
        result: dict[str, Any] | None = None,
        call_id: int | None = None,
        error: str | None = None,
    ) -> None:
        row = {
            "run_id": self.run_id,
            "item_id": item_id,
            "stage": stage,
            "state": state,
            "result": json.dumps(result, ensure_ascii=False) if result is not None else None,
            "call_id": call_id,
            "error": error,
            "updated_at": now(),
        }
        with self.db.conn:
            self.db.conn.execute(
                "INSERT OR REPLACE INTO teach_tasks (run_id, item_id, stage, state, result, call_id, error, "
                "updated_at) VALUES (:run_id, :item_id, :stage, :state, :result, :call_id, :error, :updated_at)",
                row,
            )
        self.tasks[(item_id, stage)] = row

    def done_task(self, item_id: str, stage: str) -> dict[str, Any] | None:
        row = self.tasks.get((item_id, stage))
        if row and row["state"] == "done":
            return json.loads(row["result"] or "{}") | {"call_id": row["call_id"]}
        return None

    async def stage(self, item_id: str, stage: str, messages: list[dict[str, str]]) -> StageOut:
        """One (item, stage) of this run, done at most once."""
        prior = self.done_task(item_id, stage)
        if prior is not None:
            return StageOut(prior["text"], prior["call_id"], reused=True)
        try:
            out = await self.call(item_id, stage, messages)
        except TeacherCallError as exc:
            self.save_task(item_id, stage, "failed", error=str(exc))
            raise ItemError(item_id, f"{stage}: {exc}") from None
        self.save_task(
            item_id,
            stage,
            "done",
            result={"text": out.text, "reused": out.reused},
            call_id=out.call_id,
        )
        return out


class TeachRun:
    def __init__(
        self,
        ws: Workspace,
        db: sqlite_utils.Database,
        cfg: TeacherConfig,
        teacher: Teacher,
        count: Counter,
        plan: Plan,
        run_id: str,
        job: Job | None,
    ) -> None:
        self.ws, self.db, self.cfg, self.plan, self.job = ws, db, cfg, plan, job
        self.opts = plan.options
        self.mode = self.opts.gating or cfg.gating
        self.count = count
        self.budget = code_budget(cfg, ws)
        self.engine = Engine(db, cfg, teacher, run_id=run_id, fresh=self.opts.fresh)
        self.run_id = run_id
        self.result = StageResult(skipped=list(plan.skipped))
        self._progress = Progress(job, self.engine.tally, log_every=LOG_EVERY)

    # -- one item ------------------------------------------------------------------------
    async def item(self, item_id: str) -> None:
        stored = self.engine.done_task(item_id, "store")
        if stored is not None:
            self._count(item_id, stored["state"], stored.get("reasons") or [], earlier=True)
            return
        if self.opts.area == "main" and self._accepted_elsewhere(item_id):
            self.result.skipped.append((item_id, "has an accepted prompt now (from elsewhere)"))
            self._progress(item_id, "skipped")
            return
        ctx = widget_context(self.ws, self.db, item_id, self.budget, self.count)
        engine = self.engine
        draft = await engine.stage(item_id, "draft", draft_messages(ctx))
        text, call_ids, stages = draft.text, [draft.call_id], ["draft"]
        critique: Critique | None = None
        if self.opts.critique:
            out = await engine.stage(item_id, "critique", critique_messages(ctx, text))
            critique = parse_critique(out.text)
            call_ids.append(out.call_id)
            stages.append("critique")
            if self.opts.refine and critique.verdict != "pass":
                out = await engine.stage(
                    item_id, "refine", refine_messages(ctx, text, critique.issues)
                )
                text = out.text
                call_ids.append(out.call_id)
                stages.append("refine")
        # The critique judged the draft; after a refinement it no longer applies to the text.
        verdict = gate(text, self.mode, critique if stages[-1] != "refine" else None)
        state = "accepted" if verdict.passed else "rejected"
        provenance = {
            "run_id": self.run_id,
            "task": f"{self.run_id}:{item_id}",
            "model": self.cfg.model,
            "base_url": engine.teacher.base_url,
            "call_ids": call_ids,
            "stages": stages,
            "stage": stages[-1],
            "gating": {"mode": self.mode, **verdict.as_dict()},
            "critique": critique.as_dict() if critique else None,
            "dry_run": self.cfg.dry_run,
        }
        note = "; ".join(verdict.reasons or verdict.notes) or None
        revision_id = self._store(item_id, text, state, provenance, note)
        engine.save_task(
            item_id,
            "store",
            "done",
            result={
                "state": state,
                "reasons": verdict.reasons,
                "notes": verdict.notes,
                "text": text,
                "revision_id": revision_id,
                "area": self.opts.area,
            },
        )
        self._count(item_id, state, verdict.reasons)

    def _accepted_elsewhere(self, item_id: str) -> bool:
        """A resumed run skips widgets that got an accepted prompt meanwhile (TUI, another run)."""
        cur = prompts.current(self.db, item_id)
        return bool(
            cur
            and cur["state"] == "accepted"
            and cur["provenance"].get("task") != f"{self.run_id}:{item_id}"
        )

    def _store(
        self, item_id: str, text: str, state: str, provenance: dict[str, Any], note: str | None
    ) -> int | None:
        if self.opts.area == "sample":
            save_sample(self.db, self.run_id, item_id, text, state, provenance, note)
            return None
        if self.cfg.dry_run:
            return None  # placeholders never become prompt revisions
        for rev in prompts.history(self.db, item_id):  # stored before a crash, task not yet marked
            if rev["provenance"].get("task") == provenance["task"]:
                return rev["id"]
        return prompts.add_revision(
            self.db, item_id, text, origin="teacher", state=state, provenance=provenance, note=note
        )["id"]

    def _count(
        self, item_id: str, state: str, reasons: list[str], *, earlier: bool = False
    ) -> None:
        outcomes = self.engine.tally.outcomes
        outcomes[state] = outcomes.get(state, 0) + 1
        if state == "accepted":
            self.result.ok += 1
        else:
            cause = f"rejected by {self.mode} gating: {'; '.join(reasons)}"
            self.result.skipped.append((item_id, cause))
            if self.job is not None and not earlier:
                self.job.log(f"{item_id}: {cause}", level="warning", item_id=item_id)
        self._progress(item_id, f"{state}{' (earlier)' if earlier else ''}")

    # -- all items -----------------------------------------------------------------------
    def _failed(self, item_id: str, cause: str) -> None:
        tally = self.engine.tally
        record_failure(
            self.result,
            self.job,
            item_id,
            cause,
            outcomes=tally.outcomes,
            message=f"cost so far {tally.cost:.4f}",
        )

    async def run(self) -> None:
        await run_items(
            self.plan.items,
            self.item,
            self._failed,
            self.engine,
            job=self.job,
            what="teach",
        )

    def summary(self) -> dict[str, Any]:
        tally = self.engine.tally
        return {
            "run_id": self.run_id,
            "area": self.opts.area,
            "dry_run": self.cfg.dry_run,
            "gating": self.mode,
            "items": len(self.plan.items),
            "accepted": tally.outcomes.get("accepted", 0),
            "rejected": tally.outcomes.get("rejected", 0),
            "failed": tally.outcomes.get("failed", 0),
            **spend(tally, self.cfg),
        }


def insert_teach_run(
    db: sqlite_utils.Database,
    *,
    area: str,
    params: dict[str, Any],
    cfg: TeacherConfig,
    items: list[str],
    job: Job | None,
) -> str:
    """A new running teach_runs row (settings without the key); its id."""
    run_id = time.strftime("%Y%m%d-%H%M%S-") + uuid.uuid4().hex[:6]
    stamp = now()
    with db.conn:
        db["teach_runs"].insert(
            {
                "id": run_id,
                "area": area,
                "job_id": job.id if job else None,
                "params": json.dumps(params),
                "config": json.dumps(cfg.public_dict()),
                "items": json.dumps(items),
                "state": "running",
                "dry_run": int(cfg.dry_run),
                "created_at": stamp,
                "updated_at": stamp,
                "summary": None,
            }
        )
    return run_id


async def run_items(
    items: Sequence[T],
    one: Callable[[T], Awaitable[None]],
    failed: Callable[[T, str], None],
    engine: Engine,
    *,
    job: Job | None,
    what: str,
) -> None:
    """``one(item)`` for every item (an item id, a row, a batch), at most the teacher config's
    ``concurrency`` at once; an ItemError goes to ``failed(item, cause)`` and the others go on. Items hold the
    semaphore for their whole chain, so they finish roughly in order and a killed run leaves
    little half-done. The job's cancel cancels them all (Cancelled: continue with --resume);
    the teacher is closed last. Shared by every teach stage."""
    sem = asyncio.Semaphore(engine.cfg.concurrency)

    async def guarded(item: T) -> None:
        async with sem:
            try:
                await one(item)
            except ItemError as exc:
                failed(item, exc.cause)

    tasks = [asyncio.create_task(guarded(item)) for item in items]
    try:
        await all_or_cancel_job(
            tasks,
            lambda: job is not None and job.cancelled,
            f"{what} cancelled; continue with --resume",
        )
    finally:
        await engine.teacher.close()


def open_run(db: sqlite_utils.Database, plan: Plan, cfg: TeacherConfig, job: Job | None) -> str:
    """The teach_runs row of a plan's run (resumed, or new); its id."""
    return open_teach_run(
        db,
        area=plan.options.area,
        params=plan.options.to_dict(),
        items=plan.items,
        resume_id=plan.run_id,
        cfg=cfg,
        job=job,
    )


def open_teach_run(
    db: sqlite_utils.Database,
    *,
    area: str,
    params: dict[str, Any],
    items: list[str],
    resume_id: str | None,
    cfg: TeacherConfig,
    job: Job | None,
) -> str:
    """Resume run ``resume_id`` (its calls still "started" died with the process that sent
    them), or insert a new running row for ``area`` that supersedes the area's unfinished
    runs; the run's id. Shared by every teach stage."""
    stamp = now()
    if resume_id:
        with db.conn:
            db["teach_runs"].update(
                resume_id,
                {"state": "running", "updated_at": stamp, "job_id": job.id if job else None},
            )
            db.conn.execute(
                f"UPDATE teacher_calls SET status = 'interrupted', error = '{INTERRUPTED}' "
                "WHERE run_id = ? AND status = 'started'",
                [resume_id],
            )
        return resume_id
    marks = ", ".join("?" for _ in UNFINISHED)
    with db.conn:
        # A new run selects all remaining work itself, so older unfinished runs of the same area
        # are superseded and --resume never goes back to them.
        db.conn.execute(
            f"UPDATE teach_runs SET state = 'superseded', updated_at = ? WHERE area = ? AND dry_run = ? "
            f"AND state IN ({marks})",
            [stamp, area, int(cfg.dry_run), *UNFINISHED],
        )
        db.conn.execute(
            f"UPDATE teacher_calls SET status = 'interrupted', error = '{INTERRUPTED}' "
            "WHERE status = 'started' AND run_id IN (SELECT id FROM teach_runs WHERE state = 'superseded')"
        )
        return insert_teach_run(db, area=area, params=params, cfg=cfg, items=items, job=job)


def teach_prompts(
    ws: Workspace,
    *,
    cfg: TeacherConfig,
    teacher_factory: TeacherFactory,
    count: Counter,
    options: TeachOptions,
    job: Job | None = None,
) -> StageResult:
    """The bulk stage. Call it from a plain thread (it runs its own event loop)."""
    with ws.catalog() as db:
        mirror_missing(ws, db)  # prompt files a killed run committed but did not write out
        plan = make_plan(db, options, dry_run=cfg.dry_run)
        teacher = (
            DryRunTeacher(cfg.model) if cfg.dry_run else teacher_factory(cfg)
        )  # key checked here
        run_id = open_run(db, plan, cfg, job)
        run = TeachRun(ws, db, cfg, teacher, count, plan, run_id, job)
        stages = "+".join(plan.options.stages())
        what = f"{len(plan.items)} widget(s), stages {stages}"
        announce_run(job, run_id, plan.notes, what, len(plan.items), cfg, teacher)
        return drive_run(db, run_id, run)


def announce_run(
    job: Job | None,
    run_id: str,
    notes: list[str],
    what: str,
    total: int,
    cfg: TeacherConfig,
    teacher: Teacher,
) -> None:
    """Before a run: its plan's notes and a line saying what it does and with which teacher in
    the job log; the job's total."""
    if job is None:
        return
    for note in notes:
        job.log(note)
    dry = " (dry run)" if cfg.dry_run else ""
    job.log(f"run {run_id}: {what}, model {cfg.model} at {teacher.base_url}{dry}")
    job.set_total(total)


def drive_run(db: Any, run_id: str, run: Any) -> StageResult:
    """Run a teach run's event loop and record how it ended in teach_runs, whatever happens.
    ``run`` has an async ``run()``, a ``result`` (StageResult) and ``summary()``; shared by the
    widget, plan and readmes teach stages."""
    state = "stopped"
    try:
        asyncio.run(run.run())
        state = "partial" if run.result.failed else "done"
    finally:
        summary = run.summary()
        with db.conn:
            db["teach_runs"].update(
                run_id, {"state": state, "updated_at": now(), "summary": json.dumps(summary)}
            )
    run.result.summary = summary
    return run.result


def draft_one(
    ws: Workspace, cfg: TeacherConfig, teacher: Teacher, count: Counter, item_id: str
) -> dict[str, Any]:
    """One fresh draft for one widget (the TUI's key); logged, but stored nowhere else."""
    with ws.catalog() as db:
        ctx = widget_context(ws, db, item_id, code_budget(cfg, ws), count)
        engine = Engine(db, cfg, teacher, run_id=None, fresh=True)

        async def go() -> StageOut:
            try:
                return await engine.call(item_id, "draft", draft_messages(ctx))
            finally:
                await teacher.close()

        try:
            out = asyncio.run(go())
        except TeacherCallError as exc:
            raise ItemError(item_id, f"draft: {exc}") from None
        verdict = gate(out.text, cfg.gating)
        return {
            "item_id": item_id,
            "text": out.text,
            "model": cfg.model,
            "call_id": out.call_id,
            "cost": round(engine.tally.cost, 6),
            "dry_run": cfg.dry_run,
            "gating": verdict.as_dict(),
        }


def accept_draft(db: sqlite_utils.Database, item_id: str, draft: dict[str, Any]) -> dict[str, Any]:
    """Store a draft from ``draft_one`` as the item's accepted prompt revision."""
    if draft.get("dry_run"):
        raise ItemError(item_id, "a dry-run placeholder cannot become a prompt; turn dry_run off")
    provenance = {
        "model": draft.get("model"),
        "call_ids": [draft.get("call_id")],
        "stage": "draft",
        "stages": ["draft"],
        "gating": draft.get("gating"),
        "source": "tui",
    }
    return prompts.add_revision(
        db, item_id, draft["text"], origin="teacher", state="accepted", provenance=provenance
    )
