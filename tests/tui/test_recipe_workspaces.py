"""The plan, buckets and templates workspaces in the workstation's items pane (issues 12 and
13): each recipe's columns, its detail (the plan's draft, critique and refined answer side by
side; the rule results of a generated record), its actions and quick filters, its dashboard,
and live changes made by other connections. Real workspaces: the plan's prompts come from
the real plan stage (answers and gate decisions written with the plan store, as the teacher
stages write them), the records from the real buckets and templates stages over the shipped
specs. Real SQLite throughout."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graftwork.core.base.config import configs_dir
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.plan import store
from graftwork.core.plan.planner import run_plan
from graftwork.core.sources.imported import import_records
from graftwork.core.stages import run_stage
from graftwork.tui.widgets.items_pane import SectionsView
from tests.tui.helpers import main_screen, until

SPEC = """\
dataset: {name: tips, version: v1}
system_prompt: You give travel tips as JSON.
variables:
  city: [Oslo, Lima]
categories:
  food:
    count: 2
    templates: ["Where to eat in {{ city }}?"]
  sights:
    count: 2
    templates: ["What to see in {{ city }}?"]
contract:
  format: json
  schema: {type: object, required: [summary], properties: {summary: {type: string}}}
"""
GOOD = json.dumps({"summary": "Eat at the harbour market."})


def _recipe(ws: Workspace, name: str) -> None:
    config = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(config.replace("recipe: uebersicht", f"recipe: {name}"))


@pytest.fixture
def plan_ws(tmp_path: Path) -> tuple[Workspace, dict[str, str]]:
    """Four prompts: one accepted by the gate, one rejected with its reason, one drafted,
    one only planned. Returns the workspace and the ids by prompt."""
    ws = Workspace.init(tmp_path / "ws")
    _recipe(ws, "plan")
    (ws.root / "spec.yaml").write_text(SPEC, encoding="utf-8")
    with ws.catalog() as db:
        run_job(db, "plan", lambda job: run_plan(ws, job=job))
        ids = {r["prompt"]: r["item_id"] for r in store.plan_items(db, store.latest_spec(db)["id"])}
        good, bad = ids["Where to eat in Oslo?"], ids["Where to eat in Lima?"]
        drafted = ids["What to see in Oslo?"]
        for iid, draft in ((good, GOOD), (bad, "Eat well."), (drafted, GOOD)):
            store.save_answer(db, "main", iid, "draft", text=draft, finish_reason="stop")
        for iid in (good, bad):
            store.save_answer(
                db, "main", iid, "critique", text="ok", verdict="revise", issues='["be specific"]'
            )
            store.save_answer(db, "main", iid, "refine", text=GOOD if iid == good else "Eat.")
        store.save_gate(
            db, "main", good, state="accepted", answer=GOOD, answer_stage="refine",
            parse_ok=1, schema_ok=1, mode="lenient", decided_by="gate", dry_run=0,
        )  # fmt: skip
        store.save_gate(
            db, "main", bad, state="rejected", answer="Eat.", answer_stage="refine", parse_ok=0,
            reasons=["parse: not JSON"], mode="lenient", decided_by="gate", dry_run=0,
        )  # fmt: skip
    names = {"good": good, "bad": bad, "drafted": drafted, "planned": ids["What to see in Lima?"]}
    return ws, names


async def test_plan_items_stages_side_by_side_answers_and_decisions(make_app, plan_ws) -> None:
    ws, ids = plan_ws
    app = make_app(ws)
    async with app.run_test(size=(160, 48)) as pilot:
        pane, table = await _items(pilot, 4)
        assert [label for label, _ in table.columns] == [
            "id",
            "category",
            "stage",
            "gate",
            "prompt",
        ]
        stages = {name: pane.by_id[iid]["stage"] for name, iid in ids.items()}
        assert stages == {
            "good": "accepted", "bad": "rejected", "drafted": "drafted", "planned": "planned",
        }  # fmt: skip
        assert pane.by_id[ids["bad"]]["gate"] == "parse: not JSON"
        assert pane.by_id[ids["good"]]["category"] == "food"

        # the rejected one: draft, critique and refined answer side by side
        table.move_cursor(pane.shown.index(ids["bad"]))
        detail = pane.query_one(SectionsView)
        await until(pilot, lambda: detail.item_id == ids["bad"])
        side = [s.title for s in detail.sections if s.group == "answers"]
        assert side == ["draft", "critique", "refined"]
        # one side-by-side block of three (the detail draws blocks into one Static)
        await until(pilot, lambda: [len(b) for b in detail.blocks if len(b) > 1] == [3])
        gate = next(s for s in detail.sections if s.title == "gate").text
        assert "rejected by the gate (lenient)" in gate and "reason: parse: not JSON" in gate

        # accept it by hand (a), reject the gate's accepted one (x)
        await pilot.press("a")
        await until(pilot, lambda: pane.by_id[ids["bad"]]["stage"] == "accepted")
        assert pane.by_id[ids["bad"]]["gate"] == "by hand"
        table.move_cursor(pane.shown.index(ids["good"]))
        await until(pilot, lambda: pane.selected_id == ids["good"])
        await pilot.press("x")
        await until(pilot, lambda: pane.by_id[ids["good"]]["stage"] == "rejected")
        with ws.catalog() as db:
            assert store.item_gate(db, ids["bad"])["decided_by"] == "manual"
            assert store.item_gate(db, ids["good"])["state"] == "rejected"
        dataset = ws.root / "data" / "processed" / "dataset_v1.jsonl"
        assert [json.loads(x)["id"] for x in dataset.read_text().splitlines()] == [ids["bad"]]

        # a prompt with no answer cannot be accepted: an error notice, nothing changes
        table.move_cursor(pane.shown.index(ids["planned"]))
        await until(pilot, lambda: pane.selected_id == ids["planned"])
        await pilot.press("a")
        await until(pilot, lambda: any("no answer" in str(n.message) for n in app._notifications))
        assert pane.by_id[ids["planned"]]["stage"] == "planned"

        # quick filters per stage
        labels = [f.label for f in pane.filters]
        for stage in ("planned", "drafted", "critiqued", "refined", "accepted", "rejected"):
            assert stage in labels
        pane.action_quick_filter(labels.index("drafted"))
        assert pane.shown == [ids["drafted"]]
        pane.action_quick_filter(0)

        # the dashboard: counts per stage and per category against the targets
        await pilot.press("d")
        board = pane.query_one("#items-dashboard-text")
        await until(pilot, lambda: "food (target 2)" in str(board.render()))
        text = str(board.render())
        assert "sights (target 2)  planned 1 · drafted 1" in text
        assert "food (target 2)    accepted 1 · rejected 1" in text

        # a teacher stage in another connection drafts the last prompt: the row follows
        with ws.catalog() as db:
            store.save_answer(db, "main", ids["planned"], "draft", text=GOOD)
        await until(pilot, lambda: pane.by_id[ids["planned"]]["stage"] == "drafted")


async def _items(pilot, count: int):  # -> (ItemsPane, its table), once every row is there
    screen = await main_screen(pilot)
    pane = screen.items_pane
    await until(pilot, lambda: len(pane.rows) == count)
    return pane, pane.query_one("#items-table")


def _section(detail: SectionsView, item_id: str, title: str) -> str:
    """The text of the detail's section ``title`` once it shows ``item_id``, else ""."""
    if detail.item_id != item_id:
        return ""
    return next((s.text for s in detail.sections if s.title == title), "")


def _reimport(ws: Workspace, path: Path, record: dict) -> None:
    with ws.catalog() as db:
        run_job(
            db, "import", lambda job: import_records(ws, [(path, 1, record)], fmt="alpaca", job=job)
        )


async def test_buckets_items_show_bucket_rules_and_targets(make_app, tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _recipe(ws, "buckets")
    run_stage(ws, "buckets", {"spec": str(configs_dir() / "specs" / "buckets_coding.yaml")})
    app = make_app(ws)
    async with app.run_test(size=(160, 48)) as pilot:
        pane, table = await _items(pilot, 205)
        assert [label for label, _ in table.columns] == ["bucket", "rules", "instruction"]
        first = pane.shown[0]
        assert (pane.by_id[first]["bucket"], pane.by_id[first]["rules"]) == ("tool_core", "ok")
        detail = pane.query_one(SectionsView)
        await until(pilot, lambda: detail.item_id == first)
        rules = next(s for s in detail.sections if s.title == "rules").text
        assert rules.startswith("pass  fields\npass  tool_calls")
        failing = [f.label for f in pane.filters].index("rule failed")
        pane.action_quick_filter(failing)
        assert pane.shown == []

        # the record is regenerated broken (another connection): the row and detail follow
        path = ws.root / "data" / "processed" / "buckets" / "tool_core.jsonl"
        meta = {"id": first, "bucket": "tool_core", "task_type": "tool_core"}
        wrong = json.dumps({"tool": "read_file", "arguments": {}})
        _reimport(
            ws, path, {"instruction": "Read it.", "input": "x", "output": wrong, "meta": meta}
        )
        await until(pilot, lambda: pane.by_id[first]["rules"] == "fails tool_calls")
        await until(pilot, lambda: pane.shown == [first])
        table.move_cursor(0)
        await until(pilot, lambda: "FAIL  tool_calls" in _section(detail, first, "rules"))

        await pilot.press("d")
        board = pane.query_one("#items-dashboard-text")
        await until(pilot, lambda: "tool_neg" in str(board.render()))
        text = str(board.render())
        assert "tool_core        120 of 120" in text and "guardrail        15 of 15" in text
        assert "rule tool_calls  159 pass · 1 fail" in text


async def test_templates_items_show_category_style_separator(make_app, tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    _recipe(ws, "templates")
    spec = configs_dir().parent / "data" / "templates" / "spelling.yaml"
    run_stage(ws, "templates", {"spec": str(spec)})
    app = make_app(ws)
    async with app.run_test(size=(160, 48)) as pilot:
        pane, table = await _items(pilot, 1250)
        labels = [label for label, _ in table.columns]
        assert labels == ["category", "style", "separator", "rules", "instruction"]
        first = pane.by_id[pane.shown[0]]
        assert first["category"] == "spelling_first" and first["rules"] == "ok"
        assert first["style"] in ("simple", "playful")
        assert first["separator"] in ("space", "comma", "dash")
        detail = pane.query_one(SectionsView)
        await until(pilot, lambda: detail.item_id == pane.shown[0])
        rules = next(s for s in detail.sections if s.title == "rules").text
        assert "pass  schema" in rules
        await pilot.press("d")
        board = pane.query_one("#items-dashboard-text")
        await until(pilot, lambda: "word_length" in str(board.render()))
        text = str(board.render())
        assert "spelling_first" in text and "400 of 400" in text
        assert "rule schema" in text and "1250 pass · 0 fail" in text
        assert "separator" in text and "comma" in text
