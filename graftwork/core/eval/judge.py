"""`graftwork eval --judge`: the teacher compares the base and adapter answers of an
evaluation, pair by pair, each pair asked twice with the positions swapped (base as A, then
adapter as A), so a judge that favours a position cancels out.

Through the teach machinery: every call goes through `teach.runner.Engine` (logged in
teacher_calls before it is sent, finished calls reused by request hash: judging the same
evaluation again, e.g. after a kill, sends only what never came back), the run is a
teach_runs row (area ``eval-judge``), the cost is estimated before (`estimate`), and the key
is only read from the environment by the adapter.

Per pair: each order gives the adapter 1 (its answer won), 0.5 (tie) or 0; the pair's
judge_score is the mean of the two. Stored with the evaluation (model "pair"): judge_score,
judge_adapter_wins / judge_base_wins (won in both orders), judge_inconsistent (the orders
named different winners) and judge_first_position (share of decisive verdicts for answer A:
50% means no order bias)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from graftwork.core.base.catalog.txn import write_txn
from graftwork.core.base.errors import GraftworkError, ItemError
from graftwork.core.base.jobs import Job, StageResult, stage_db
from graftwork.core.base.workspace import Workspace
from graftwork.core.eval import store
from graftwork.core.eval.report import write_report
from graftwork.core.eval.store import Score
from graftwork.core.teach.config import TeacherConfig
from graftwork.core.teach.estimate import answered, spend_bound
from graftwork.core.teach.plan import (
    NOTHING_TO_RESUME,
    char_estimate,
    message_tokens,
    resumed_run,
)
from graftwork.core.teach.port import ChatRequest, Completion, Teacher
from graftwork.core.teach.runner import (
    DryRunTeacher,
    Engine,
    Progress,
    announce_run,
    drive_run,
    open_teach_run,
    record_failure,
    run_items,
    spend,
)

AREA = "eval-judge"
ORDERS = (("judge-ab", "base"), ("judge-ba", "adapter"))  # (call stage, the model shown as A)
JUDGE_SYSTEM = (
    "[stage:judge] You are an impartial judge. Two assistants answered the same request. "
    "Decide which answer serves the request better: correct, complete, in the asked format"
    "{reference}. Ignore the order of the answers and their length. Reply with JSON only: "
    '{{"winner": "A" | "B" | "tie", "reason": "one short sentence"}}.'
)


class JudgeError(GraftworkError):
    exit_code = 2


@dataclass(frozen=True)
class Pair:
    sample_id: int
    item_id: str
    prompt: str
    reference: str
    base: str
    adapter: str


def judge_messages(pair: Pair, first: str) -> list[dict[str, str]]:
    """The request for one order; ``first`` is the model whose answer is shown as A."""
    a, b = (pair.base, pair.adapter) if first == "base" else (pair.adapter, pair.base)
    ref = " and close to the reference answer" if pair.reference.strip() else ""
    parts = [f"## Request\n{pair.prompt}"]
    if pair.reference.strip():
        parts.append(f"## Reference answer\n{pair.reference}")
    parts += [f"## Answer A\n{a}", f"## Answer B\n{b}"]
    return [
        {"role": "system", "content": JUDGE_SYSTEM.format(reference=ref)},
        {"role": "user", "content": "\n\n".join(parts)},
    ]


def parse_verdict(text: str) -> tuple[str, str]:
    """("A" | "B" | "tie", reason) from the judge's reply; ValueError when it says neither."""
    match = re.search(r"\{.*\}", text, re.S)
    if match:
        try:
            data = json.loads(match.group(0))
        except ValueError:
            data = None
        if isinstance(data, dict):
            winner = str(data.get("winner", "")).strip().strip('"').lower()
            if winner in ("a", "b", "tie"):
                return ("tie" if winner == "tie" else winner.upper()), str(data.get("reason", ""))
    bare = text.strip().strip('."').lower()
    if bare in ("a", "b", "tie"):
        return ("tie" if bare == "tie" else bare.upper()), ""
    raise ValueError(f"the judge's reply names no winner: {text.strip()[:80]!r}")


def adapter_score(winner: str, first: str) -> float:
    """1 when the adapter's answer won this order, 0.5 for a tie, else 0."""
    if winner == "tie":
        return 0.5
    shown_a = first
    won = shown_a if winner == "A" else ("adapter" if shown_a == "base" else "base")
    return 1.0 if won == "adapter" else 0.0


def load_pairs(db: sqlite_utils.Database, eval_id: str) -> list[Pair]:
    ids = sorted(
        {i["sample_id"] for i in store.eval_items(db, eval_id) if i["sample_id"] is not None}
    )
    if not ids:
        return []
    rows = db.query(
        f"select * from samples where id in ({','.join('?' * len(ids))}) order by id", ids
    )
    return [
        Pair(
            r["id"],
            r["item_id"],
            r["prompt"] or "",
            r["reference"] or "",
            r["base_output"] or "",
            r["adapter_output"] or "",
        )
        for r in rows
    ]


def _eval_of(db: sqlite_utils.Database, run_id: str, eval_id: str | None) -> str:
    from graftwork.core.train.runs import get_run

    run = get_run(db, run_id)
    eval_id = eval_id or store.latest_eval_id(db, run["id"])
    if eval_id is None:
        raise JudgeError(f"run {run['id']} has no evaluation to judge: run `graftwork eval` first")
    if store.eval_source(db, eval_id).get("run_id") != run["id"]:
        raise JudgeError(f"evaluation {eval_id!r} is not one of run {run['id']}")
    return eval_id


def _judge_cfg(cfg: TeacherConfig) -> TeacherConfig:
    # A verdict should not depend on sampling: the same pair asked again gets the same answer
    # (and a repeated judgement reuses the logged call).
    return cfg.model_copy(update={"temperature": 0.0})


def _judged(db: sqlite_utils.Database, run_id: str | None) -> set[tuple[str, str]]:
    """(pair key, order) that run ``run_id`` has done already (a resumed run reads them back)."""
    if not run_id:
        return set()
    return {
        (r["item_id"], r["stage"])
        for r in db.query(
            "SELECT item_id, stage FROM teach_tasks WHERE run_id = ? AND state = 'done'", [run_id]
        )
    }


@dataclass
class JudgeWork:
    """What one judge run works on: the evaluation, its pairs, and the run it continues."""

    eval_id: str
    pairs: list[Pair]
    run_id: str | None = None  # set when resuming
    notes: list[str] = field(default_factory=list)


def make_work(
    db: sqlite_utils.Database,
    run_id: str,
    eval_id: str | None,
    *,
    resume: bool,
    dry_run: bool,
) -> JudgeWork:
    """The evaluation to judge (given, else the run's newest) and its pairs; with ``resume``
    the newest unfinished judge run of this training run continues with its own pairs."""
    notes: list[str] = []
    if resume:
        got = resumed_run(db, AREA, dry_run)
        if got is not None and got.params.get("run_id") in (None, run_id):
            resumed_eval = _eval_of(db, run_id, got.params["eval_id"])
            wanted = set(got.items)
            pairs = [p for p in load_pairs(db, resumed_eval) if pair_key(p) in wanted]
            return JudgeWork(resumed_eval, pairs, got.run_id, [got.note])
        notes.append(NOTHING_TO_RESUME)
    eval_id = _eval_of(db, run_id, eval_id)
    return JudgeWork(eval_id, load_pairs(db, eval_id), None, notes)


def pair_key(pair: Pair) -> str:
    """A pair's item in teach_tasks and teacher_calls."""
    return f"sample-{pair.sample_id}"


def estimate(
    db: sqlite_utils.Database,
    cfg: TeacherConfig,
    run_id: str,
    *,
    eval_id: str | None = None,
    fresh: bool = False,
    resume: bool = False,
) -> dict[str, Any]:
    """Calls to send (two per pair, minus those done or already answered), tokens (about 4
    characters a token in, at most max_tokens out) and an upper bound on the cost."""
    cfg = _judge_cfg(cfg)
    work = make_work(db, run_id, eval_id, resume=resume, dry_run=cfg.dry_run)
    done = _judged(db, work.run_id)
    base_url = cfg.public_base_url()
    to_send = reused = input_tokens = 0
    for pair in work.pairs:
        for stage, first in ORDERS:
            if (pair_key(pair), stage) in done:
                continue
            messages = judge_messages(pair, first)
            if answered(db, cfg, messages, fresh=fresh, base_url=base_url):
                reused += 1
                continue
            to_send += 1
            input_tokens += message_tokens(messages, char_estimate)
    return {
        "eval_id": work.eval_id,
        "run_id": work.run_id,
        "pairs": len(work.pairs),
        "calls": to_send,
        "calls_reused": reused,
        "notes": work.notes,
        **spend_bound(cfg, base_url, input_tokens, to_send * cfg.max_tokens),
    }


class JudgeDryRunTeacher(DryRunTeacher):
    """A tie for every pair, no network at all (marked: nothing is stored as a score)."""

    async def complete(self, request: ChatRequest) -> Completion:
        text = json.dumps({"winner": "tie", "reason": "[dry-run] no teacher was asked"})
        return Completion(
            text=text, model=self.model, input_tokens=0, output_tokens=0, latency_ms=0
        )


class JudgeRun:
    """The pairs of one evaluation through the teach kit: `run_items` (concurrency, cancel),
    `Engine.stage` per order (logged, reused, done at most once per run), `record_failure`,
    `Progress` and `spend`."""

    def __init__(
        self,
        db: sqlite_utils.Database,
        cfg: TeacherConfig,
        teacher: Teacher,
        work: JudgeWork,
        run_id: str,
        fresh: bool,
        job: Job | None,
    ) -> None:
        self.cfg, self.pairs, self.job = cfg, work.pairs, job
        self.engine = Engine(db, cfg, teacher, run_id=run_id, fresh=fresh)
        self.run_id = run_id
        self.result = StageResult()
        self.verdicts: dict[int, dict[str, Any]] = {}
        self._progress = Progress(job, self.engine.tally)

    async def pair(self, pair: Pair) -> None:
        key = pair_key(pair)
        scores, winners, reasons = [], {}, []
        for stage, first in ORDERS:
            out = await self.engine.stage(key, stage, judge_messages(pair, first))
            try:
                winner, reason = parse_verdict(out.text)
            except ValueError as exc:
                raise ItemError(pair.item_id, f"{stage}: {exc}") from None
            winners[stage] = winner
            if reason:
                reasons.append(f"{first} as A: {reason}")
            scores.append(adapter_score(winner, first))
        self.verdicts[pair.sample_id] = {
            "judge_score": sum(scores) / 2,
            "orders": winners,
            "scores": scores,
            "reasons": reasons,
        }
        self.result.ok += 1
        self._progress(pair.item_id, "judged")

    def _failed(self, pair: Pair, cause: str) -> None:
        tally = self.engine.tally
        record_failure(
            self.result, self.job, pair.item_id, cause, message=f"cost so far {tally.cost:.4f}"
        )

    async def run(self) -> None:
        await run_items(
            self.pairs, self.pair, self._failed, self.engine, job=self.job, what="judge"
        )

    def summary(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "pairs": len(self.pairs),
            "judged": len(self.verdicts),
            "failed": len(self.result.failed),
            **spend(self.engine.tally, self.cfg),
            "dry_run": self.cfg.dry_run,
        }


def pair_scores(verdicts: dict[int, dict[str, Any]]) -> list[Score]:
    """The evaluation's judge measures from the pairs' verdicts."""
    n = len(verdicts)
    if not n:
        return []
    values = list(verdicts.values())

    def both(score: float) -> int:
        return sum(1 for v in values if v["scores"] == [score, score])

    decisive = [w for v in values for w in v["orders"].values() if w != "tie"]
    inconsistent = sum(1 for v in values if sorted(v["scores"]) == [0.0, 1.0])
    return [
        Score("pair", "judge_score", sum(v["judge_score"] for v in values) / n, n),
        Score("pair", "judge_adapter_wins", both(1.0) / n, n, {"pairs": both(1.0)}),
        Score("pair", "judge_base_wins", both(0.0) / n, n, {"pairs": both(0.0)}),
        Score("pair", "judge_inconsistent", inconsistent / n, n, {"pairs": inconsistent}),
        Score(
            "pair",
            "judge_first_position",
            decisive.count("A") / len(decisive) if decisive else None,
            len(decisive),
            {"verdicts_for_a": decisive.count("A")},
        ),
    ]


def judge_eval(
    ws: Workspace,
    run_id: str,
    *,
    eval_id: str | None = None,
    cfg: TeacherConfig,
    teacher_factory: Callable[[TeacherConfig], Teacher],
    fresh: bool = False,
    resume: bool = False,
    job: Job,
) -> StageResult:
    """Judge every pair of the evaluation (default: the run's newest); ``resume`` continues the
    newest unfinished judge run (its finished orders are read back, not asked again). Call it
    from a plain thread (it runs its own event loop)."""
    cfg = _judge_cfg(cfg)
    db = stage_db(ws, job)
    work = make_work(db, run_id, eval_id, resume=resume, dry_run=cfg.dry_run)
    eval_id, pairs = work.eval_id, work.pairs
    if not pairs:
        raise JudgeError(f"evaluation {eval_id} has no answers to judge")
    teacher = JudgeDryRunTeacher(cfg.model) if cfg.dry_run else teacher_factory(cfg)
    teach_run = open_teach_run(
        db,
        area=AREA,
        params={"eval_id": eval_id, "run_id": store.eval_source(db, eval_id).get("run_id")},
        items=[pair_key(p) for p in pairs],
        resume_id=work.run_id,
        cfg=cfg,
        job=job,
    )
    what = f"judge {len(pairs)} pair(s) of {eval_id} in both orders"
    announce_run(job, teach_run, work.notes, what, len(pairs), cfg, teacher)
    run = JudgeRun(db, cfg, teacher, work, teach_run, fresh, job)
    result = drive_run(db, teach_run, run)
    head = store.eval_source(db, eval_id)
    scores = pair_scores(run.verdicts)
    if scores and not cfg.dry_run:
        by_id = {p.sample_id: p for p in pairs}
        with write_txn(db):  # a new judgement of this evaluation replaces the earlier one
            db.execute("delete from eval_items where eval_id = ? and model = 'pair'", [eval_id])
            db.execute("delete from eval_results where eval_id = ? and model = 'pair'", [eval_id])
            store.record_items(
                db,
                eval_id,
                head["run_id"],
                [
                    {
                        "sample_id": sid,
                        "item_id": by_id[sid].item_id,
                        "model": "pair",
                        "metrics": v,
                    }
                    for sid, v in run.verdicts.items()
                ],
            )
            store.record_scores(
                db,
                head["run_id"],
                checkpoint=head["checkpoint"],
                source=head["source"],
                scores=scores,
                eval_id=eval_id,
            )
        report = write_report(ws, db, eval_id)
        result.outputs = [report] if report else []
    result.summary = {
        **result.summary,
        "eval_id": eval_id,
        "scores": {} if cfg.dry_run else {s.metric: s.value for s in scores},
    }
    return result
