"""The plan recipe in the workstation (recipes/views.py): each planned prompt with its
category, stage (planned/drafted/critiqued/refined/accepted/rejected) and the gate's reasons;
the draft, critique and refined answer side by side; accept or reject by hand; quick filters
per stage; the dashboard with counts per stage and per category against the plan's targets.

Rows come from one SQL query (plan_items LEFT JOIN answers, gate and qa), so a refresh of a
few changed ids reads only those (the live catalog), and a 100,000-prompt plan stays cheap."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import sqlite_utils

from graftwork.core.base.workspace import Workspace
from graftwork.core.plan import store
from graftwork.core.plan.status import STAGES, counts, stage_of
from graftwork.core.recipes.views import ItemAction, QuickFilter, Section

AREA = "main"  # the workstation shows the full run; `--sample` runs stay in their own files
_CHUNK = 500  # ids per IN (...) query (SQLite's variable limit)

_ROWS_SQL = """
SELECT p.item_id, p.category, p.prompt,
       d.item_id IS NOT NULL AS drafted, c.item_id IS NOT NULL AS critiqued,
       r.item_id IS NOT NULL AS refined, c.verdict,
       g.state, g.reasons, g.notes, g.decided_by,
       COALESCE(g.dry_run, r.dry_run, d.dry_run, 0) AS dry_run,
       q.rule AS qa_rule
FROM plan_items p
LEFT JOIN plan_answers d ON d.area = :area AND d.item_id = p.item_id AND d.stage = 'draft'
LEFT JOIN plan_answers c ON c.area = :area AND c.item_id = p.item_id AND c.stage = 'critique'
LEFT JOIN plan_answers r ON r.area = :area AND r.item_id = p.item_id AND r.stage = 'refine'
LEFT JOIN plan_gate g ON g.area = :area AND g.item_id = p.item_id
LEFT JOIN plan_qa q ON q.area = :area AND q.item_id = p.item_id
WHERE p.spec_id = :spec {ids}
ORDER BY p.ord
"""


_MARKS_SQL = """
SELECT (SELECT MAX(id) FROM plan_specs) AS spec,
       (SELECT MAX(created_at) FROM plan_answers WHERE area = :area) AS answers,
       (SELECT MAX(decided_at) FROM plan_gate WHERE area = :area) AS gates,
       (SELECT COUNT(*) FROM plan_qa WHERE area = :area) AS qa_count,
       (SELECT MAX(checked_at) FROM plan_qa WHERE area = :area) AS qa_at
"""
# >= : a row written in the same millisecond as the mark is read again rather than missed
_CHANGED_SQL = """
SELECT item_id FROM plan_answers WHERE area = :area AND created_at >= :answers
UNION SELECT item_id FROM plan_gate WHERE area = :area AND decided_at >= :gates
"""


def _gate_text(state: str | None, reasons: list[str], notes: list[str], by: str | None) -> str:
    """The list's short gate column: why it was rejected, or how it was accepted."""
    if state == "rejected":
        return "; ".join(reasons)
    if state == "accepted":
        return "by hand" if by == "manual" else "; ".join(notes)
    return ""


def _row(r: tuple[Any, ...]) -> dict[str, Any]:
    """One row of _ROWS_SQL (a plain tuple: 100,000 of them are read on a full refresh)."""
    (item_id, category, prompt, drafted, critiqued, refined, verdict, state, reasons, notes, by,
     dry_run, qa_rule) = r  # fmt: skip
    gate = ""
    if state:  # only gated prompts have reasons or notes to decode
        gate = _gate_text(state, json.loads(reasons or "[]"), json.loads(notes or "[]"), by)
    return {
        "id": item_id,
        "category": category,
        "stage": stage_of(bool(drafted), bool(critiqued), bool(refined), state),
        "gate": gate,
        "verdict": verdict or "",
        "decided_by": by or "",
        "dry_run": bool(dry_run),
        "qa": qa_rule or "",
        "prompt": prompt,
    }


def _newest_spec(db: sqlite_utils.Database) -> dict[str, Any] | None:
    try:
        return store.latest_spec(db)
    except store.NoPlanError:
        return None


def _pretty(text: str | None, as_json: bool) -> tuple[str, str | None]:
    """A JSON answer indented for reading (when it parses), else the text as it came."""
    if text is None:
        return "", None
    if as_json:
        try:
            return json.dumps(json.loads(text), indent=2, ensure_ascii=False), "json"
        except ValueError:
            pass
    return text, None


def _decide_action(state: str) -> Any:
    def run(ws: Workspace, item_id: str) -> str:
        from graftwork.core.plan.decisions import decide

        with ws.catalog() as db:
            done = decide(ws, db, [item_id], state)
        if done.failed:  # the pane shows a GraftworkError as an error notice
            raise store.NoPlanError(f"{item_id}: {done.failed[0][1]}")
        return f"{item_id}: {state} by hand"

    return run


class PlanItemsView:
    actions = (
        ItemAction("plan.accept", "a", "Accept answer", _decide_action("accepted")),
        ItemAction("plan.reject", "x", "Reject answer", _decide_action("rejected")),
    )
    filters = (
        *(QuickFilter(s, lambda row, s=s: row["stage"] == s) for s in STAGES),
        QuickFilter("by hand", lambda row: row["decided_by"] == "manual"),
        QuickFilter("dry run", lambda row: row["dry_run"]),
    )

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def rows(self, db: sqlite_utils.Database, ids: Sequence[str] | None = None) -> list[dict]:
        spec = _newest_spec(db)
        if spec is None:
            return []
        params: dict[str, Any] = {"area": AREA, "spec": spec["id"]}
        if ids is None:
            return [_row(r) for r in db.execute(_ROWS_SQL.format(ids=""), params).fetchall()]
        out = []
        wanted = list(ids)
        for start in range(0, len(wanted), _CHUNK):
            chunk = wanted[start : start + _CHUNK]
            marks = ", ".join(f":i{n}" for n in range(len(chunk)))
            sql = _ROWS_SQL.format(ids=f"AND p.item_id IN ({marks})")
            chunk_params = {**params, **{f"i{n}": v for n, v in enumerate(chunk)}}
            out.extend(_row(r) for r in db.execute(sql, chunk_params).fetchall())
        return out

    def changed(
        self, db: sqlite_utils.Database, marks: dict[str, Any] | None
    ) -> tuple[list[str] | None, dict[str, Any]]:
        """Prompts whose answers or gate changed since ``marks`` (the teacher stages and the
        gate write the plan's own tables, not items): None after a new plan or a qa run."""
        new = dict(next(iter(db.query(_MARKS_SQL, {"area": AREA}))))
        if marks is None:
            return [], new
        if any(new[k] != marks.get(k) for k in ("spec", "qa_count", "qa_at")):
            return None, new
        params = {"area": AREA, "answers": marks["answers"] or "", "gates": marks["gates"] or ""}
        return [r[0] for r in db.execute(_CHANGED_SQL, params).fetchall()], new

    def detail(self, db: sqlite_utils.Database, item_id: str) -> list[Section]:
        spec = _newest_spec(db)
        found = (
            list(
                db.query(
                    "SELECT * FROM plan_items WHERE item_id = ? AND spec_id = ?",
                    [item_id, spec["id"]],
                )
            )
            if spec
            else []
        )
        if not found:
            return [Section("not planned", f"{item_id} is not a prompt of the newest plan")]
        item = found[0]
        parsed = json.loads(spec["spec"]) if spec else {}
        as_json = (parsed.get("contract") or {}).get("format") == "json"
        answers = store.item_answers(db, item_id, AREA)
        gate = store.item_gate(db, item_id, AREA)
        facts = [
            f"category: {item['category']}",
            f"template: {item['template_id']}",
            *(f"{k}: {v}" for k, v in json.loads(item["variables"] or "{}").items()),
            *(f"tag {k}: {v}" for k, v in json.loads(item["tags"] or "{}").items()),
        ]
        sections = [
            Section("prompt", item["prompt"]),
            Section("plan", "\n".join(facts)),
        ]
        for stage, title in (("draft", "draft"), ("critique", "critique"), ("refine", "refined")):
            row = answers.get(stage)
            if row is None:
                sections.append(Section(title, f"no {title} yet", group="answers"))
                continue
            text, syntax = _pretty(row["text"], as_json and stage != "critique")
            head = []
            if stage == "critique":
                issues = json.loads(row["issues"] or "[]")
                head = [f"verdict: {row['verdict'] or 'unknown'}", *(f"- {i}" for i in issues)]
                text = row["text"] or ""
            if row["dry_run"]:
                head.insert(0, "[dry-run placeholder]")
            if row["finish_reason"] and row["finish_reason"] != "stop":
                head.append(f"finish_reason: {row['finish_reason']}")
            if row["refusal"]:
                head.append(f"refused: {row['refusal']}")
            body = "\n".join([*head, "", text]) if head else text
            sections.append(Section(title, body, None if head else syntax, group="answers"))
        sections.append(Section("gate", _gate_detail(gate, db, item_id)))
        return sections

    def dashboard(self, db: sqlite_utils.Database) -> list[tuple[str, str]]:
        spec = _newest_spec(db)
        if spec is None:
            return [("plan", "no plan yet: run `graftwork plan`")]
        tally = counts(self.rows(db))
        targets = json.loads(spec["counts"] or "{}")
        total = sum(tally["by_stage"].values())
        lines = [("plan", f"{spec['name']} {spec['version']}: {total} prompts")]
        lines += [(stage, str(n)) for stage, n in tally["by_stage"].items()]
        for category, by_stage in tally["by_category"].items():
            target = (targets.get(category) or {}).get("target")
            shown = " · ".join(f"{s} {n}" for s, n in by_stage.items() if n)
            of = f" (target {target})" if target is not None else ""
            lines.append((f"{category}{of}", shown))
        return lines


def _gate_detail(gate: dict[str, Any] | None, db: sqlite_utils.Database, item_id: str) -> str:
    if gate is None:
        lines = ["not gated yet (run `graftwork teach refine`)"]
    else:
        by = "by hand" if gate["decided_by"] == "manual" else f"by the gate ({gate['mode']})"
        lines = [f"{gate['state']} {by}", f"answer from: {gate['answer_stage']}"]
        for key, label in (("parse_ok", "parses"), ("schema_ok", "schema valid")):
            if gate[key] is not None:
                lines.append(f"{label}: {'yes' if gate[key] else 'no'}")
        if gate["dry_run"]:
            lines.append("dry-run placeholder: never enters the dataset")
        lines += [f"reason: {r}" for r in gate["reasons"]]
        lines += [f"note: {n}" for n in gate["notes"]]
    qa = list(
        db.query("SELECT rule, detail FROM plan_qa WHERE area = ? AND item_id = ?", [AREA, item_id])
    )
    if qa:
        lines.append(f"removed by qa: {qa[0]['rule']}: {qa[0]['detail']}")
    return "\n".join(lines)


def view(ws: Workspace) -> PlanItemsView:
    return PlanItemsView(ws)
