"""The instruct stage: the teacher writes one instruction per README chunk, through the teach
machinery (graftwork.core.teach): every call in the call log (written before it is sent),
runs in teach_runs with their chunks, (run, chunk, "store") tasks so a resumed run never
stores twice, finished calls reused by request hash so a resumed run never sends one again,
dry runs, a sample area, estimates before spending.

Chunks go in batches (default 3) in one call, answered as a JSON list. A reply with bad JSON
or the wrong count is asked again (with a note saying what was wrong, so it is a new request),
then each chunk of the batch gets a call of its own, then the chunk is marked failed with the
reason. An accepted instruction becomes the chunk's prompt revision (origin teacher), editable
like any prompt.

Batches are cut from the run's planned chunk list, always the same way, so the request of a
batch is the same on resume and its finished call is found in the log.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import sqlite_utils

from graftwork.core.base.errors import ItemError
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts import prompts
from graftwork.core.sources.readmes.config import load_readmes_config
from graftwork.core.sources.readmes.templates import (
    RepoContext,
    dry_run_instructions,
    instruct_messages,
    parse_instructions,
)
from graftwork.core.teach.config import TeacherConfig
from graftwork.core.teach.estimate import answered, spend_bound, stored_items
from graftwork.core.teach.plan import (
    NOTHING_TO_RESUME,
    Counter,
    Plan,
    TeachUsageError,
    check_at_least_one,
    message_tokens,
    resumed_run,
)
from graftwork.core.teach.port import ChatRequest, Completion, TeacherCallError
from graftwork.core.teach.runner import (
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

STAGE = "instruct"


@dataclass
class InstructOptions:
    limit: int | None = None
    sample: int | None = None
    resume: bool = False
    fresh: bool = False
    repos: list[str] | None = None
    batch_size: int | None = None  # None: readmes.instruct.batch_size

    def __post_init__(self) -> None:
        check_at_least_one(self, ("limit", "sample", "batch_size"))

    @property
    def area(self) -> str:
        return "instruct-sample" if self.sample else "instruct"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class InstructDryRun(DryRunTeacher):
    """No network: as many placeholder instructions as the call asks for."""

    async def complete(self, request: ChatRequest) -> Completion:
        text = dry_run_instructions(request.messages[-1]["content"])
        return Completion(
            text=text, model=self.model, input_tokens=0, output_tokens=0, latency_ms=0
        )


# ---- what to work on ---------------------------------------------------------------------


def select_chunks(
    db: sqlite_utils.Database, opts: InstructOptions
) -> tuple[list[str], list[tuple[str, str]]]:
    """Active chunks without an accepted instruction, not excluded, in catalog order."""
    rows = list(
        db.query(
            "SELECT c.item_id, c.repo_id, cu.decision FROM readme_chunks c "
            "JOIN items i ON i.id = c.item_id LEFT JOIN curation cu ON cu.item_id = c.item_id "
            "WHERE c.active = 1 ORDER BY i.manifest_order, c.item_id"
        )
    )
    if opts.repos:
        known = {r["repo_id"] for r in rows}
        unknown = sorted(set(opts.repos) - known)
        if unknown:
            raise TeachUsageError(f"no chunks for repositories: {', '.join(unknown)}")
        rows = [r for r in rows if r["repo_id"] in set(opts.repos)]
    current = prompts.current_all(db)
    chosen: list[str] = []
    skipped: list[tuple[str, str]] = []
    for row in rows:
        item_id = row["item_id"]
        if row["decision"] == "exclude":
            skipped.append((item_id, "excluded by curation"))
        elif opts.area == "instruct" and (current.get(item_id) or {}).get("state") == "accepted":
            continue
        else:
            chosen.append(item_id)
    cap = opts.sample or opts.limit
    return (chosen[:cap] if cap else chosen), skipped


def make_plan(db: sqlite_utils.Database, opts: InstructOptions, *, dry_run: bool) -> Plan:
    if opts.resume and (run := resumed_run(db, opts.area, dry_run)):
        options = InstructOptions(**run.params)
        return Plan(options, run.items, run_id=run.run_id, notes=[run.note])  # type: ignore[arg-type]
    items, skipped = select_chunks(db, opts)
    notes = [NOTHING_TO_RESUME] if opts.resume else []
    return Plan(opts, items, skipped, notes=notes)  # type: ignore[arg-type]


class Chunks:
    """Chunk texts and their repositories' contexts, read once per run."""

    def __init__(self, db: sqlite_utils.Database, tree_max: int) -> None:
        self.db = db
        self.tree_max = tree_max
        self._repos: dict[str, RepoContext] = {}

    def get(self, item_id: str) -> tuple[str, str, RepoContext]:
        row = self.db.execute(
            "SELECT text, repo_id FROM readme_chunks WHERE item_id = ?", [item_id]
        ).fetchone()
        if row is None:
            raise ItemError(item_id, "chunk not in the catalog (run `graftwork chunk`)")
        text, repo_id = row
        if repo_id not in self._repos:
            repo = list(self.db.query("SELECT * FROM readme_repos WHERE id = ?", [repo_id]))
            if not repo:
                raise ItemError(item_id, f"repository {repo_id} not in the catalog")
            self._repos[repo_id] = RepoContext.from_row(repo[0], self.tree_max)
        return item_id, text, self._repos[repo_id]


def batches(items: list[str], size: int) -> list[list[str]]:
    return [items[i : i + size] for i in range(0, len(items), size)]


# ---- the run -------------------------------------------------------------------------------


class InstructRun:
    def __init__(
        self,
        db: sqlite_utils.Database,
        cfg: TeacherConfig,
        engine: Engine,
        plan: Plan,
        chunks: Chunks,
        *,
        batch_size: int,
        parse_retries: int,
        job: Job | None,
    ) -> None:
        self.db, self.cfg, self.engine, self.plan, self.chunks = db, cfg, engine, plan, chunks
        self.opts: InstructOptions = plan.options  # type: ignore[assignment]
        self.batch_size = batch_size
        self.parse_retries = parse_retries
        self.job = job
        self.result = StageResult(skipped=list(plan.skipped))
        self.failed_calls = 0
        self._progress = Progress(job, engine.tally)

    async def ask(self, ids: list[str]) -> tuple[list[str] | None, str, list[int]]:
        """(instructions or None, reason of the last failure, call ids) for one batch; a chunk
        that cannot be read makes the batch unusable (then each chunk is asked alone)."""
        try:
            items = [self.chunks.get(i) for i in ids]
        except ItemError as exc:
            return None, exc.cause, []
        reason = ""
        call_ids: list[int] = []
        for attempt in range(self.parse_retries + 1):
            note = (
                f"Your previous reply could not be used: {reason}. Reply with a JSON list of "
                f"exactly {len(ids)} object(s), nothing else."
                if attempt
                else ""
            )
            try:
                out = await self.engine.call(
                    ",".join(ids), STAGE, instruct_messages(items, note=note)
                )
            except TeacherCallError as exc:
                return None, str(exc), call_ids
            call_ids.append(out.call_id)
            try:
                return parse_instructions(out.text, len(ids)), "", call_ids
            except ValueError as exc:
                reason = str(exc)
                self.failed_calls += 1
        return None, reason, call_ids

    def _todo(self, ids: list[str]) -> list[str]:
        return [i for i in ids if self.engine.done_task(i, "store") is None]

    async def batch(self, ids: list[str]) -> None:
        todo = self._todo(ids)
        for item_id in ids:
            if item_id not in todo:
                self._progress(item_id, "done (earlier)")
                self.result.ok += 1
        if not todo:
            return
        texts, reason, call_ids = await self.ask(ids)
        if texts is not None:
            for item_id, text in zip(ids, texts, strict=True):
                if item_id in todo:
                    self.store(item_id, text, call_ids, ids)
            return
        if len(ids) > 1:
            if self.job is not None:
                self.job.log(
                    f"batch of {len(ids)} unusable ({reason}); asking for each chunk alone",
                    level="warning",
                )
            for item_id in todo:
                one, why, single_calls = await self.ask([item_id])
                if one is not None:
                    self.store(item_id, one[0], single_calls, [item_id])
                else:
                    self.fail(item_id, why)
            return
        self.fail(ids[0], reason)

    def store(self, item_id: str, text: str, call_ids: list[int], batch: list[str]) -> None:
        run_id = self.engine.run_id
        provenance = {
            "run_id": run_id,
            "task": f"{run_id}:{item_id}",
            "model": self.cfg.model,
            "base_url": self.engine.teacher.base_url,
            "call_ids": call_ids,
            "stage": STAGE,
            "stages": [STAGE],
            "batch": batch,
            "dry_run": self.cfg.dry_run,
        }
        revision_id = None
        if self.opts.area == "instruct-sample":
            save_sample(self.db, run_id, item_id, text, "accepted", provenance)
        elif not self.cfg.dry_run:  # placeholders never become prompts
            prior = [
                r
                for r in prompts.history(self.db, item_id)
                if r["provenance"].get("task") == provenance["task"]
            ]  # stored before a crash, task not yet marked
            revision_id = (
                prior[-1]["id"]
                if prior
                else prompts.add_revision(
                    self.db,
                    item_id,
                    text,
                    origin="teacher",
                    state="accepted",
                    provenance=provenance,
                )["id"]
            )
            with self.db.conn:
                self.db.conn.execute(
                    "UPDATE readme_chunks SET instruct_state = 'done', instruct_error = NULL "
                    "WHERE item_id = ?",
                    [item_id],
                )
        self.engine.save_task(
            item_id,
            "store",
            "done",
            result={
                "state": "accepted",
                "text": text,
                "revision_id": revision_id,
                "area": self.opts.area,
            },
        )
        self.result.ok += 1
        self._progress(item_id, "instruction stored")

    def fail(self, item_id: str, reason: str) -> None:
        cause = f"no usable instruction: {reason}"
        self.engine.save_task(item_id, "store", "failed", error=cause)
        if self.opts.area == "instruct":
            with self.db.conn:
                self.db.conn.execute(
                    "UPDATE readme_chunks SET instruct_state = 'failed', instruct_error = ? "
                    "WHERE item_id = ?",
                    [cause, item_id],
                )
        record_failure(
            self.result,
            self.job,
            item_id,
            cause,
            message=f"failed · cost so far {self.engine.tally.cost:.4f}",
        )

    def _unreadable(self, ids: list[str], cause: str) -> None:
        """An item error `batch` did not handle: the batch's unstored chunks fail, the run goes
        on."""
        for item_id in self._todo(ids):
            self.fail(item_id, cause)

    async def run(self) -> None:
        await run_items(
            batches(self.plan.items, self.batch_size),
            self.batch,
            self._unreadable,
            self.engine,
            job=self.job,
            what="instruct",
        )

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.engine.run_id,
            "area": self.opts.area,
            "dry_run": self.cfg.dry_run,
            "chunks": len(self.plan.items),
            "batch_size": self.batch_size,
            "done": self.result.ok,
            "failed": len(self.result.failed),
            "unusable_replies": self.failed_calls,
            **spend(self.engine.tally, self.cfg),
        }


def instruct(
    ws: Workspace,
    *,
    cfg: TeacherConfig,
    teacher_factory: TeacherFactory,
    options: InstructOptions,
    job: Job | None = None,
) -> StageResult:
    """The bulk stage; call it from a plain thread (it runs its own event loop)."""
    rcfg = load_readmes_config(ws)
    with ws.catalog() as db:
        plan = make_plan(db, options, dry_run=cfg.dry_run)
        opts: InstructOptions = plan.options  # type: ignore[assignment]
        size = opts.batch_size or rcfg.instruct.batch_size
        teacher = InstructDryRun(cfg.model) if cfg.dry_run else teacher_factory(cfg)
        run_id = open_run(db, plan, cfg, job)
        engine = Engine(db, cfg, teacher, run_id=run_id, fresh=opts.fresh)
        run = InstructRun(
            db,
            cfg,
            engine,
            plan,
            Chunks(db, rcfg.collect.tree_max_files),
            batch_size=size,
            parse_retries=rcfg.instruct.parse_retries,
            job=job,
        )
        what = f"{len(plan.items)} chunk(s) in batches of {size}"
        announce_run(job, run_id, plan.notes, what, len(plan.items), cfg, teacher)
        return drive_run(db, run_id, run)


def estimate(
    ws: Workspace, cfg: TeacherConfig, options: InstructOptions, count: Counter
) -> dict[str, Any]:
    """Calls, input tokens (exact), output tokens (bounded by max_tokens) and cost before a
    run; batches already stored or whose call is in the log are not counted."""
    rcfg = load_readmes_config(ws)
    with ws.catalog() as db:
        plan = make_plan(db, options, dry_run=cfg.dry_run)
        opts: InstructOptions = plan.options  # type: ignore[assignment]
        size = opts.batch_size or rcfg.instruct.batch_size
        done = stored_items(db, plan.run_id)
        chunks = Chunks(db, rcfg.collect.tree_max_files)
        sent = reused = input_tokens = 0
        unreadable: list[tuple[str, str]] = []
        base_url = cfg.public_base_url()
        for ids in batches(plan.items, size):
            if all(i in done for i in ids):
                continue
            try:
                messages = instruct_messages([chunks.get(i) for i in ids])
            except ItemError as exc:
                unreadable.append((exc.item_id, exc.cause))
                continue
            if answered(db, cfg, messages, fresh=opts.fresh, base_url=base_url):
                reused += 1
                continue
            sent += 1
            input_tokens += message_tokens(messages, count)
    return {
        "run_id": plan.run_id,
        "area": opts.area,
        "chunks": len(plan.items),
        "batch_size": size,
        "calls": sent,
        "calls_reused": reused,
        **spend_bound(cfg, base_url, input_tokens, sent * cfg.max_tokens),
        "skipped": plan.skipped,
        "unreadable": unreadable,
        "notes": plan.notes,
    }
