"""The plan recipe's workstation view (core/plan/view.py) and the decisions by hand behind its
keys and `graftwork plan accept|reject`: real teacher chain against the fake server on
127.0.0.1 (test_plan_teach's spec and responder), real SQLite, the seed's files on disk."""

from __future__ import annotations

import json
import re

import pytest
from support.fake_openai_server import FakeOpenAIServer
from test_plan_teach import KEY, SPEC, flags, server, teach

from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.plan.planner import run_plan
from graftwork.core.plan.store import NoPlanError
from graftwork.core.recipes import get_recipe

__all__ = ["server"]  # the fake teacher fixture, shared with test_plan_teach


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("GW_PLAN_KEY", KEY)
    config = workspace.config_path.read_text(encoding="utf-8")
    workspace.config_path.write_text(config.replace("recipe: uebersicht", "recipe: plan"))
    (workspace.root / "spec.yaml").write_text(SPEC, encoding="utf-8")
    with workspace.catalog() as db:
        run_job(db, "plan", lambda job: run_plan(workspace, job=job))
    return workspace


def by_city(rows: list[dict]) -> dict[str, dict]:
    return {re.search(r"for (\w+)", r["prompt"]).group(1): r for r in rows}  # type: ignore[union-attr]


def dataset_ids(ws: Workspace, suffix: str = "") -> set[str]:
    path = ws.root / "data" / "processed" / f"dataset_v1{suffix}.jsonl"
    return {json.loads(line)["id"] for line in path.read_text(encoding="utf-8").splitlines()}


def test_rows_stages_filters_and_dashboard_follow_the_chain(
    ws: Workspace, server: FakeOpenAIServer
) -> None:
    view = get_recipe("plan").item_view(ws)
    with ws.catalog() as db:
        assert [r["stage"] for r in view.rows(db)] == ["planned"] * 7
    teach(ws, "drafts", flags(server), limit=4)
    with ws.catalog() as db:
        rows = view.rows(db)
        dash = dict(view.dashboard(db))
    assert [r["stage"] for r in rows] == ["drafted"] * 4 + ["planned"] * 3
    planned = next(f for f in view.filters if f.label == "planned")
    assert len([r for r in rows if planned.keep(r)]) == 3
    assert {f.label for f in view.filters} >= {
        "planned", "drafted", "critiqued", "refined", "accepted", "rejected",
    }  # fmt: skip
    assert dash["planned"] == "3" and dash["drafted"] == "4" and dash["accepted"] == "0"
    assert dash["tips (target 7)"] == "planned 3 · drafted 4"

    for stage in ("drafts", "critiques", "refine"):
        teach(ws, stage, flags(server))
    with ws.catalog() as db:
        rows = by_city(view.rows(db))
        dash = dict(view.dashboard(db))
        # The live catalog asks for a few ids: only those come back.
        ids = [rows["Good1"]["id"], rows["Cut"]["id"]]
        assert sorted(r["id"] for r in view.rows(db, ids)) == sorted(ids)
    assert {c: r["stage"] for c, r in rows.items()} == {
        "Good1": "accepted", "Good2": "accepted", "NotJson": "rejected",
        "SchemaFail": "rejected", "Empty": "rejected", "Cut": "rejected", "Refuse": "rejected",
    }  # fmt: skip
    assert rows["NotJson"]["gate"].startswith("parse")
    assert "truncated" in rows["Cut"]["gate"] and "refus" in rows["Refuse"]["gate"]
    assert (dash["accepted"], dash["rejected"]) == ("2", "5")
    assert dash["tips (target 7)"] == "accepted 2 · rejected 5"


def test_detail_shows_draft_critique_and_refined_side_by_side(
    ws: Workspace, server: FakeOpenAIServer
) -> None:
    for stage in ("drafts", "critiques", "refine"):
        teach(ws, stage, flags(server))
    view = get_recipe("plan").item_view(ws)
    with ws.catalog() as db:
        rows = by_city(view.rows(db))
        sections = view.detail(db, rows["Good2"]["id"])
        missing = view.detail(db, "no-such-prompt")
    side = [s for s in sections if s.group == "answers"]
    assert [s.title for s in side] == ["draft", "critique", "refined"]
    assert json.loads(side[0].text)["summary"] == "vague"
    assert side[1].text.startswith("verdict: revise\n- be specific")
    assert side[2].syntax == "json" and json.loads(side[2].text)["steps"] == ["walk", "eat"]
    assert sections[0].title == "prompt" and sections[0].text == "Tips for Good2?"
    gate = next(s for s in sections if s.title == "gate").text
    assert gate.startswith("accepted by the gate") and "answer from: refine" in gate
    assert missing[0].text == "no-such-prompt is not a prompt of the newest plan"


def test_accept_and_reject_by_hand_update_rows_and_the_dataset_files(
    ws: Workspace, server: FakeOpenAIServer
) -> None:
    for stage in ("drafts", "critiques", "refine"):
        teach(ws, stage, flags(server))
    view = get_recipe("plan").item_view(ws)
    accept = next(a for a in view.actions if a.id == "plan.accept")
    reject = next(a for a in view.actions if a.id == "plan.reject")
    with ws.catalog() as db:
        rows = by_city(view.rows(db))
        stamp = db.execute(
            "SELECT updated_at FROM items WHERE id = ?", [rows["Good1"]["id"]]
        ).fetchone()[0]
    good1, notjson, empty = rows["Good1"]["id"], rows["NotJson"]["id"], rows["Empty"]["id"]
    assert good1 in dataset_ids(ws)

    assert reject.run(ws, good1) == f"{good1}: rejected by hand"
    assert accept.run(ws, notjson) == f"{notjson}: accepted by hand"
    # An empty answer cannot be accepted: one line naming the item and the cause.
    with pytest.raises(NoPlanError) as info:
        accept.run(ws, empty)
    assert str(info.value) == f"{empty}: the answer is empty; an empty answer cannot be accepted"

    with ws.catalog() as db:
        after = by_city(view.rows(db))
        newer = db.execute("SELECT updated_at FROM items WHERE id = ?", [good1]).fetchone()[0]
    assert newer > stamp  # the live catalog sees the change
    assert (after["Good1"]["stage"], after["Good1"]["gate"]) == (
        "rejected",
        "manual: rejected by hand",
    )
    assert (after["NotJson"]["stage"], after["NotJson"]["gate"]) == ("accepted", "by hand")
    assert after["Empty"]["stage"] == "rejected"
    by_hand = next(f for f in view.filters if f.label == "by hand")
    assert sorted(c for c, r in after.items() if by_hand.keep(r)) == ["Good1", "NotJson"]
    assert dataset_ids(ws) == {rows["Good2"]["id"], notjson}
    assert good1 in dataset_ids(ws, "_rejected")
    stats = json.loads((ws.root / "data/processed/dataset_v1_stats.json").read_text())
    assert (stats["accepted"], stats["rejected"]) == (2, 5)
    # A later gating run keeps the decisions made by hand.
    teach(ws, "refine", flags(server), fresh=True)
    with ws.catalog() as db:
        kept = by_city(view.rows(db))
    assert (kept["Good1"]["stage"], kept["NotJson"]["stage"]) == ("rejected", "accepted")


def test_a_dry_run_placeholder_can_be_rejected_never_accepted(
    ws: Workspace, server: FakeOpenAIServer
) -> None:
    teach(ws, "drafts", flags(server, dry_run=True))  # drafted, not gated
    view = get_recipe("plan").item_view(ws)
    accept = next(a for a in view.actions if a.id == "plan.accept")
    reject = next(a for a in view.actions if a.id == "plan.reject")
    with ws.catalog() as db:
        rows = view.rows(db)
    first, second = rows[0]["id"], rows[1]["id"]
    assert rows[0]["dry_run"] and rows[0]["stage"] == "drafted"
    with pytest.raises(NoPlanError, match=f"^{first}: a dry-run placeholder cannot be accepted$"):
        accept.run(ws, first)
    assert reject.run(ws, second) == f"{second}: rejected by hand"
    with ws.catalog() as db:
        after = {r["id"]: r for r in view.rows(db, [first, second])}
    assert after[first]["stage"] == "drafted" and after[second]["stage"] == "rejected"
    assert dataset_ids(ws) == set()


def test_cli_plan_accept_reject_and_list(ws: Workspace, server: FakeOpenAIServer) -> None:
    from test_plan_stage import gw

    for stage in ("drafts", "critiques", "refine"):
        teach(ws, stage, flags(server))
    listed = gw(ws, "plan", "list", "--stage", "rejected")
    assert listed.returncode == 0, listed.stderr
    lines = [line.split("\t") for line in listed.stdout.splitlines()]
    assert len(lines) == 5 and "5 prompt(s)" in listed.stderr
    ids = {re.search(r"for (\w+)", cols[4]).group(1): cols[0] for cols in lines}  # type: ignore[union-attr]
    assert lines[0][2] == "rejected" and lines[0][1] == "tips"

    done = gw(ws, "plan", "accept", ids["NotJson"], "tips-unknown", "--note", "prose is fine")
    assert done.returncode == 1
    assert f"{ids['NotJson']}: accepted by hand (prose is fine)" in done.stdout
    assert done.stderr.strip() == "tips-unknown: not a prompt of the newest plan"
    assert ids["NotJson"] in dataset_ids(ws)
    rejected = gw(ws, "plan", "reject", ids["NotJson"])
    assert rejected.returncode == 0 and ids["NotJson"] in dataset_ids(ws, "_rejected")
    nothing = gw(ws, "plan", "accept", ids["Empty"])
    assert nothing.returncode == 2
    assert nothing.stderr.strip() == (
        f"{ids['Empty']}: the answer is empty; an empty answer cannot be accepted"
    )
    wrong = gw(ws, "plan", "--spec", "spec.yaml", "accept", ids["Cut"])
    assert wrong.returncode == 2 and "--spec belongs to `graftwork plan`" in wrong.stderr


def test_cli_plan_accept_without_a_plan_is_one_line(workspace: Workspace) -> None:
    from test_plan_stage import gw

    proc = gw(workspace, "plan", "accept", "x")
    assert proc.returncode == 2
    assert proc.stderr.strip().endswith("no plan yet: run `graftwork plan` first")
    assert "Traceback" not in proc.stderr


def test_changed_names_the_prompts_the_teacher_stages_touched(
    ws: Workspace, server: FakeOpenAIServer
) -> None:
    view = get_recipe("plan").item_view(ws)
    with ws.catalog() as db:
        ids, marks = view.changed(db, None)
    assert ids == []
    teach(ws, "drafts", flags(server), limit=2)
    with ws.catalog() as db:
        ids, marks = view.changed(db, marks)
        drafted = {r["id"] for r in view.rows(db) if r["stage"] == "drafted"}
        assert set(ids) == drafted and len(drafted) == 2
        # asked again: at most the rows written in the mark's own millisecond
        assert set(view.changed(db, marks)[0]) <= drafted
    with ws.catalog() as db:
        run_job(db, "plan", lambda job: run_plan(ws, job=job))  # a new plan: reload every row
        assert view.changed(db, marks)[0] is None
