"""`graftwork teach drafts|critiques|refine`: the teacher answers each planned prompt, then
critiques the answer, then refines it where needed and the gate decides what enters the
dataset. Built on the teach machinery (core/teach): every call goes through `Engine` (call
log written before each call, finished calls reused by request hash, so a killed run
followed by --resume repeats at most the calls that were in flight), runs are rows of
teach_runs (area ``plan-<stage>-<main|sample>``), and the key is never stored.

Answers live in plan_answers and decisions in plan_gate, per area: ``--sample N`` works on
the first N planned prompts in the sample area and never touches the main one. Dry-run
placeholders are stored marked (dry_run = 1), are redone by the next real run, and the gate
always rejects them.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils

from graftwork.core.base.errors import ItemError
from graftwork.core.base.jobs import Job, StageResult, stage_db
from graftwork.core.base.workspace import Workspace
from graftwork.core.plan import store
from graftwork.core.plan.messages import critique_messages, draft_messages, refine_messages
from graftwork.core.spec.contract import DRY_RUN_MARK, ContractChecker
from graftwork.core.spec.load import LoadedSpec, load_spec
from graftwork.core.teach.config import TeacherConfig
from graftwork.core.teach.estimate import spend_bound
from graftwork.core.teach.gating import parse_critique
from graftwork.core.teach.plan import (
    NOTHING_TO_RESUME,
    TeachUsageError,
    char_estimate,
    check_at_least_one,
    check_gating,
    message_tokens,
    resumed_run,
)
from graftwork.core.teach.port import (
    ChatRequest,
    Completion,
    Teacher,
    TeacherCallError,
    TeacherEmptyReply,
)
from graftwork.core.teach.runner import (
    DryRunTeacher,
    Engine,
    Progress,
    TeacherFactory,
    announce_run,
    drive_run,
    open_teach_run,
    record_failure,
    run_items,
    spend,
)

STAGES = ("drafts", "critiques", "refine")
CALL_STAGE = {"drafts": "draft", "critiques": "critique", "refine": "refine"}


@dataclass
class PlanTeachOptions:
    stage: str
    limit: int | None = None
    sample: int | None = None  # the first N planned prompts, in the sample area
    resume: bool = False
    fresh: bool = False  # do not reuse finished calls of earlier runs
    gating: str | None = None  # refine: lenient | strict (default: the spec's)

    def __post_init__(self) -> None:
        if self.stage not in STAGES:
            raise TeachUsageError(f"unknown stage {self.stage!r}; use one of {', '.join(STAGES)}")
        check_at_least_one(self, ("limit", "sample"))
        check_gating(self.gating)

    @property
    def area(self) -> str:
        return "sample" if self.sample else "main"

    @property
    def run_area(self) -> str:
        return f"plan-{self.stage}-{self.area}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class PlanDryRunTeacher(DryRunTeacher):
    """Placeholders marked as such, no network at all."""

    async def complete(self, request: ChatRequest) -> Completion:
        system = request.messages[0]["content"]
        if system.startswith("[stage:critique]"):
            text = json.dumps(
                {"verdict": "pass", "issues": [f"{DRY_RUN_MARK} no teacher was asked"]}
            )
        else:
            stage = "refine" if system.startswith("[stage:refine]") else "draft"
            text = f"{DRY_RUN_MARK} {stage} placeholder: no teacher was called"
        return Completion(
            text=text, model=self.model, input_tokens=0, output_tokens=0, latency_ms=0
        )


@dataclass
class Work:
    """What one run of a stage works on."""

    options: PlanTeachOptions
    loaded: LoadedSpec[Any]
    spec_id: int
    items: list[dict[str, Any]]  # plan_items rows to process, in plan order
    waiting: int = 0  # prompts whose earlier stage is not done yet
    run_id: str | None = None  # set when resuming
    notes: list[str] = field(default_factory=list)


def _usable(row: dict[str, Any] | None, dry_run: bool) -> bool:
    """A stored answer counts as done unless it is a placeholder and this run is real."""
    return row is not None and (dry_run or not row["dry_run"])


def _todo(
    db: sqlite_utils.Database, stage: str, area: str, rows: list[dict[str, Any]], dry_run: bool
) -> tuple[list[dict[str, Any]], int]:
    drafts = store.answers(db, area, "draft")
    crits = store.answers(db, area, "critique")
    gates = store.gates(db, area)
    todo, waiting = [], 0
    for row in rows:
        iid = row["item_id"]
        draft, crit, gate = drafts.get(iid), crits.get(iid), gates.get(iid)
        if stage == "drafts":
            if not _usable(draft, dry_run):
                todo.append(row)
            continue
        if not _usable(draft, dry_run):
            waiting += 1
            continue
        crit_fresh = _usable(crit, dry_run) and crit["created_at"] >= draft["created_at"]  # type: ignore[index]
        if stage == "critiques":
            if (draft["text"] or "").strip() and not crit_fresh:  # type: ignore[index]
                todo.append(row)
            continue
        if not crit_fresh and (draft["text"] or "").strip():  # type: ignore[index]
            waiting += 1
            continue
        if gate is not None and gate["decided_by"] == "manual":
            continue  # a person decided; the gate never overrides that
        newest = max(draft["created_at"], crit["created_at"] if crit else "")  # type: ignore[index]
        if not (_usable(gate, dry_run) and gate["decided_at"] >= newest):  # type: ignore[index]
            todo.append(row)
    return todo, waiting


def make_work(
    ws: Workspace, db: sqlite_utils.Database, opts: PlanTeachOptions, *, dry_run: bool
) -> Work:
    spec_row = store.latest_spec(db)
    loaded = load_spec(spec_row["path"])
    notes = []
    if loaded.sha256 != spec_row["sha256"]:
        notes.append(
            "the spec changed since `graftwork plan`; contract and gating use the file as it is now"
        )
    rows = store.plan_items(db, spec_row["id"])
    if opts.sample:
        rows = rows[: opts.sample]
    run_id = None
    if opts.resume:
        run = resumed_run(db, opts.run_area, dry_run)
        if run is not None:
            opts = PlanTeachOptions(
                **{**run.params, "gating": opts.gating or run.params.get("gating")}
            )
            wanted = set(run.items)
            rows = [r for r in store.plan_items(db, spec_row["id"]) if r["item_id"] in wanted]
            run_id = run.run_id
            notes.append(run.note)
        else:
            notes.append(NOTHING_TO_RESUME)
    todo, waiting = _todo(db, opts.stage, opts.area, rows, dry_run)
    if opts.limit and run_id is None:
        todo = todo[: opts.limit]
    if waiting:
        before = {"critiques": "a draft", "refine": "a critique"}[opts.stage]
        notes.append(f"{waiting} prompt(s) wait for {before} first")
    return Work(opts, loaded, spec_row["id"], todo, waiting, run_id, notes)


@dataclass
class Answer:
    text: str
    call_id: int | None
    finish_reason: str | None = None
    refusal: str | None = None


class PlanTeachRun:
    def __init__(
        self,
        db: sqlite_utils.Database,
        cfg: TeacherConfig,
        teacher: Teacher,
        work: Work,
        run_id: str,
        job: Job | None,
    ) -> None:
        self.db, self.cfg, self.work, self.run_id, self.job = db, cfg, work, run_id, job
        self.opts = work.options
        self.spec = work.loaded.spec
        self.schema = work.loaded.schema
        self.mode = self.opts.gating or self.spec.gating.mode
        self.checker = ContractChecker(self.spec.contract, self.schema, self.spec.gating)
        self.engine = Engine(db, cfg, teacher, run_id=run_id, fresh=self.opts.fresh)
        self.result = StageResult()
        self.outcomes: dict[str, int] = {}
        self._progress = Progress(job, self.engine.tally)
        area = self.opts.area
        self.drafts = store.answers(db, area, "draft")
        self.crits = store.answers(db, area, "critique")

    # -- calls ---------------------------------------------------------------------------
    async def ask(self, item_id: str, stage: str, messages: list[dict[str, str]]) -> Answer:
        engine = self.engine
        prior = engine.done_task(item_id, stage)
        if prior is not None:  # done earlier in this run (resumed)
            return Answer(
                prior.get("text", ""),
                prior.get("call_id"),
                prior.get("finish_reason"),
                prior.get("refusal"),
            )
        try:
            out = await engine.call(item_id, stage, messages)
        except TeacherEmptyReply as exc:
            answer = Answer("", None)
            engine.save_task(item_id, stage, "done", result={"text": "", "empty": str(exc)})
            return answer
        except TeacherCallError as exc:
            engine.save_task(item_id, stage, "failed", error=str(exc))
            raise ItemError(item_id, f"{stage}: {exc}") from None
        finish_reason, refusal = self._reply_meta(out.call_id, out.raw)
        engine.save_task(
            item_id,
            stage,
            "done",
            result={"text": out.text, "finish_reason": finish_reason, "refusal": refusal},
            call_id=out.call_id,
        )
        return Answer(out.text, out.call_id, finish_reason, refusal)

    def _reply_meta(
        self, call_id: int, raw: dict[str, Any] | None
    ) -> tuple[str | None, str | None]:
        """finish_reason and refusal of a reply (read back from the call log when reused)."""
        try:
            if raw is None:
                row = self.db.execute(
                    "SELECT response FROM teacher_calls WHERE id = ?", [call_id]
                ).fetchone()
                raw = json.loads(row[0]) if row and row[0] else {}
            choice = raw["choices"][0] if raw else {}
        except (ValueError, LookupError, TypeError):
            return None, None
        return choice.get("finish_reason"), (choice.get("message") or {}).get("refusal")

    def _save(self, item_id: str, stage: str, answer: Answer, **extra: Any) -> None:
        store.save_answer(
            self.db,
            self.opts.area,
            item_id,
            stage,
            text=answer.text,
            finish_reason=answer.finish_reason,
            refusal=answer.refusal,
            call_id=answer.call_id,
            run_id=self.run_id,
            model=self.cfg.model,
            dry_run=int(self.cfg.dry_run),
            **extra,
        )

    # -- one item per stage ----------------------------------------------------------------
    async def item(self, row: dict[str, Any]) -> None:
        iid, prompt = row["item_id"], row["prompt"]
        stage = self.opts.stage
        if stage == "drafts":
            answer = await self.ask(iid, "draft", draft_messages(self.spec, self.schema, prompt))
            self._save(iid, "draft", answer)
            self._done(iid, "drafted" if answer.text.strip() else "drafted (empty)")
        elif stage == "critiques":
            draft = self.drafts[iid]
            answer = await self.ask(
                iid, "critique", critique_messages(self.spec, self.schema, prompt, draft["text"])
            )
            crit = parse_critique(answer.text)
            self._save(
                iid,
                "critique",
                answer,
                verdict=crit.verdict,
                issues=json.dumps(crit.issues, ensure_ascii=False),
            )
            self._done(iid, f"critique: {crit.verdict}")
        else:
            await self.refine_and_gate(row)

    async def refine_and_gate(self, row: dict[str, Any]) -> None:
        iid, prompt = row["item_id"], row["prompt"]
        draft = self.drafts[iid]
        crit = self.crits.get(iid)
        verdict = crit["verdict"] if crit else "unknown"
        issues = json.loads(crit["issues"] or "[]") if crit else []
        text = draft["text"] or ""
        check = self.checker.check(
            text,
            finish_reason=draft["finish_reason"],
            refusal=draft["refusal"],
            placeholder=bool(draft["dry_run"]),
        )
        policy = self.spec.gating.refine
        refined = False
        if text.strip() and (
            policy == "always" or (policy == "on_issues" and (verdict != "pass" or check.problems))
        ):
            problems = [*issues, *(str(p) for p in check.problems)]
            answer = await self.ask(
                iid, "refine", refine_messages(self.spec, self.schema, prompt, text, problems)
            )
            self._save(iid, "refine", answer)
            refined = True
            check = self.checker.check(
                answer.text,
                finish_reason=answer.finish_reason,
                refusal=answer.refusal,
                placeholder=self.cfg.dry_run,
            )
        reasons = [str(p) for p in check.hard]
        notes: list[str] = []
        (reasons if self.mode == "strict" else notes).extend(str(p) for p in check.soft)
        if verdict in self.spec.gating.strict_reject_verdicts:
            said = f"critique verdict {verdict}" + (f": {'; '.join(issues[:3])}" if issues else "")
            # A refinement answered the critique; the verdict judged the draft, not the result.
            (reasons if self.mode == "strict" and not refined else notes).append(said)
        if self.cfg.dry_run and not any(r.startswith("placeholder") for r in reasons):
            reasons.insert(0, "placeholder: dry-run placeholder, not a teacher answer")
        state = "rejected" if reasons else "accepted"
        store.save_gate(
            self.db,
            self.opts.area,
            iid,
            state=state,
            answer=check.text,
            answer_stage="refine" if refined else "draft",
            parse_ok=None if check.parse_ok is None else int(check.parse_ok),
            schema_ok=None if check.schema_ok is None else int(check.schema_ok),
            reasons=reasons,
            notes=notes,
            verdict=verdict,
            mode=self.mode,
            decided_by="gate",
            run_id=self.run_id,
            dry_run=int(self.cfg.dry_run),
        )
        if state == "rejected":
            self.result.skipped.append(
                (iid, f"rejected by {self.mode} gating: {'; '.join(reasons)}")
            )
        self._done(iid, state, count=state == "accepted")

    def _done(self, item_id: str, what: str, *, count: bool = True) -> None:
        key = what.split(":")[0].split(" (")[0]
        self.outcomes[key] = self.outcomes.get(key, 0) + 1
        if count:
            self.result.ok += 1
        self._progress(item_id, what)

    # -- all items -----------------------------------------------------------------------
    def _failed(self, row: dict[str, Any], cause: str) -> None:
        record_failure(self.result, self.job, row["item_id"], cause, outcomes=self.outcomes)

    async def run(self) -> None:
        await run_items(
            self.work.items,
            self.item,
            self._failed,
            self.engine,
            job=self.job,
            what="teach",
        )

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "stage": self.opts.stage,
            "area": self.opts.area,
            "dry_run": self.cfg.dry_run,
            "gating": self.mode if self.opts.stage == "refine" else None,
            "items": len(self.work.items),
            "waiting": self.work.waiting,
            "outcomes": dict(self.outcomes),
            "accepted": self.outcomes.get("accepted", 0),
            "rejected": self.outcomes.get("rejected", 0),
            "failed": len(self.result.failed),
            **spend(self.engine.tally, self.cfg),
        }


def _open_run(db: sqlite_utils.Database, work: Work, cfg: TeacherConfig, job: Job | None) -> str:
    return open_teach_run(
        db,
        area=work.options.run_area,
        params=work.options.to_dict(),
        items=[r["item_id"] for r in work.items],
        resume_id=work.run_id,
        cfg=cfg,
        job=job,
    )


def estimate(ws: Workspace, cfg: TeacherConfig, options: PlanTeachOptions) -> dict[str, Any]:
    """Calls, tokens (about 4 characters a token) and an upper bound on cost. Refinements are
    counted for every prompt although only those with issues get one ("up to")."""
    with ws.catalog() as db:
        work = make_work(ws, db, options, dry_run=cfg.dry_run)
        spec, schema = work.loaded.spec, work.loaded.schema
        drafts = store.answers(db, work.options.area, "draft")
    input_tokens = 0
    for row in work.items:
        answer = (drafts.get(row["item_id"]) or {}).get("text") or ""
        if options.stage == "drafts":
            messages = draft_messages(spec, schema, row["prompt"])
        elif options.stage == "critiques":
            messages = critique_messages(spec, schema, row["prompt"], answer)
        else:
            messages = refine_messages(spec, schema, row["prompt"], answer, [])
        input_tokens += message_tokens(messages, char_estimate)
    calls = len(work.items)
    return {
        "stage": work.options.stage,
        "area": work.options.area,
        "run_id": work.run_id,
        "items": calls,
        "waiting": work.waiting,
        "calls": calls,
        **spend_bound(cfg, cfg.public_base_url(), input_tokens, calls * cfg.max_tokens),
        "notes": work.notes,
    }


def teach_plan(
    ws: Workspace,
    *,
    cfg: TeacherConfig,
    teacher_factory: TeacherFactory,
    options: PlanTeachOptions,
    job: Job,
) -> StageResult:
    """One stage over the plan. Call it from a plain thread (it runs its own event loop)."""
    db = stage_db(ws, job)
    work = make_work(ws, db, options, dry_run=cfg.dry_run)
    teacher = (
        PlanDryRunTeacher(cfg.model) if cfg.dry_run else teacher_factory(cfg)
    )  # key checked here
    run_id = _open_run(db, work, cfg, job)
    run = PlanTeachRun(db, cfg, teacher, work, run_id, job)
    what = f"{work.options.stage} for {len(work.items)} prompt(s) in the {work.options.area} area"
    announce_run(job, run_id, work.notes, what, len(work.items), cfg, teacher)
    drive_run(db, run_id, run)
    from graftwork.core.plan.exports import export_teach_files

    run.result.outputs = export_teach_files(ws, db, work.options.area)
    return run.result
