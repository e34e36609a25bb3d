"""teach drafts -> critiques -> refine over a plan, against the real fake server on
127.0.0.1 (real openai client, real SQLite): bad teacher answers are gated out with their
reason, dry-run placeholders never enter the dataset, the sample area stays apart."""

from __future__ import annotations

import json
import re
import textwrap

import pytest
from support.fake_openai_server import FakeOpenAIServer

from graftwork import wiring
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.plan import store
from graftwork.core.plan.planner import run_plan

KEY = "sk-plan-TEST-KEY-0451"
SPEC = """\
dataset: {name: tips, version: v1}
system_prompt: You give travel tips as JSON.
variables:
  city: [Good1, Good2, NotJson, SchemaFail, Empty, Cut, Refuse]
categories:
  tips:
    count: 7
    templates: ["Tips for {{ city }}?"]
contract:
  format: json
  schema:
    type: object
    required: [summary, steps]
    properties:
      summary: {type: string}
      steps: {type: array, items: {type: string}, minItems: 1}
gating: {min_chars: 10, required_keys: [summary]}
"""
GOOD = json.dumps({"summary": "A fine day out in town.", "steps": ["walk", "eat"]})


def responder(body: dict) -> str | dict:
    system = body["messages"][0]["content"]
    user = body["messages"][-1]["content"]
    city = re.search(r"Tips for (\w+)\?", user).group(1)  # type: ignore[union-attr]
    if system.startswith("[stage:critique]"):
        verdict = "pass" if city == "Good1" else "revise"
        return json.dumps(
            {"verdict": verdict, "issues": [] if verdict == "pass" else ["be specific"]}
        )
    refine = system.startswith("[stage:refine]")
    return {
        "Good1": GOOD,
        "Good2": GOOD if refine else json.dumps({"summary": "vague", "steps": ["go"]}),
        "NotJson": "Walk around and eat well.",
        "SchemaFail": json.dumps({"summary": "No steps at all here."}),
        "Empty": "",
        "Cut": {"text": GOOD[:30], "finish_reason": "length"},
        "Refuse": {"refusal": "I can't help with travel."},
    }[city]


@pytest.fixture
def server():
    with FakeOpenAIServer(responder=responder) as srv:
        yield srv


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("GW_PLAN_KEY", KEY)
    (workspace.root / "spec.yaml").write_text(textwrap.dedent(SPEC), encoding="utf-8")
    db = workspace.catalog()
    run_job(db, "plan", lambda job: run_plan(workspace, job=job))
    db.close()
    return workspace


def flags(server: FakeOpenAIServer, **extra) -> dict:
    return {
        "base_url": server.base_url,
        "api_key_env": "GW_PLAN_KEY",
        "concurrency": 3,
        "retries": 0,
        **extra,
    }


def teach(ws: Workspace, stage: str, overrides: dict, **options):
    with ws.catalog() as db:
        return run_job(
            db,
            f"teach.{stage}",
            lambda job: wiring.plan_teach(ws, stage, overrides=overrides, job=job, **options),
        )


def city_gates(ws: Workspace, area: str = "main") -> dict[str, dict]:
    with ws.catalog() as db:
        prompts = {
            r["item_id"]: r["prompt"] for r in db.query("SELECT item_id, prompt FROM plan_items")
        }
        return {
            re.search(r"for (\w+)", prompts[k]).group(1): v
            for k, v in store.gates(db, area).items()
        }  # type: ignore[union-attr]


def test_chain_gates_bad_answers_out_with_their_reasons(
    ws: Workspace, server: FakeOpenAIServer
) -> None:
    drafts = teach(ws, "drafts", flags(server))
    assert drafts.exit_code == 0 and drafts.summary["items"] == 7
    crits = teach(ws, "critiques", flags(server))
    # Empty answers (no content, or a refusal) have nothing to critique.
    assert crits.summary["items"] == 5 and crits.summary["waiting"] == 0
    refine = teach(ws, "refine", flags(server))
    assert refine.exit_code == 0
    gates = city_gates(ws)
    assert {c: g["state"] for c, g in gates.items()} == {
        "Good1": "accepted",
        "Good2": "accepted",
        "NotJson": "rejected",
        "SchemaFail": "rejected",
        "Empty": "rejected",
        "Cut": "rejected",
        "Refuse": "rejected",
    }
    assert gates["Good1"]["answer_stage"] == "draft" and gates["Good2"]["answer_stage"] == "refine"
    assert json.loads(gates["Good2"]["answer"]) == json.loads(GOOD)
    first_rule = {c: g["reasons"][0].split(":")[0] for c, g in gates.items() if g["reasons"]}
    assert first_rule == {
        "NotJson": "parse",
        "SchemaFail": "schema",
        "Empty": "empty",
        "Cut": "truncated",
        "Refuse": "refusal",
    }
    assert gates["Good1"]["parse_ok"] == 1 and gates["NotJson"]["parse_ok"] == 0
    assert gates["SchemaFail"]["schema_ok"] == 0
    # Everything is done: another pass of each stage has nothing to do and sends nothing.
    sent = len(server.requests)
    for stage in ("drafts", "critiques", "refine"):
        assert teach(ws, stage, flags(server)).summary["items"] == 0
    assert len(server.requests) == sent
    db = ws.catalog()
    assert KEY not in "".join(str(r) for r in db.query("SELECT * FROM teacher_calls"))
    db.close()


def test_limit_then_resume_and_finished_calls_are_never_sent_again(
    ws: Workspace, server: FakeOpenAIServer
) -> None:
    first = teach(ws, "drafts", flags(server), limit=3)
    assert first.summary["items"] == 3 and len(server.requests) == 3
    # A new run after a crash finds the logged calls by request hash: drop the answers only.
    db = ws.catalog()
    db.execute("DELETE FROM plan_answers")
    db.conn.commit()
    db.close()
    again = teach(ws, "drafts", flags(server))
    assert again.summary["items"] == 7
    assert again.summary["calls_reused"] == 3 and len(server.requests) == 7


def test_dry_run_placeholders_are_marked_never_accepted_and_redone_for_real(
    ws: Workspace, server: FakeOpenAIServer
) -> None:
    dry = flags(server, dry_run=True)
    for stage in ("drafts", "critiques", "refine"):
        teach(ws, stage, dry)
    assert server.requests == []
    gates = city_gates(ws)
    assert all(g["state"] == "rejected" and g["dry_run"] == 1 for g in gates.values())
    assert all(g["reasons"][0].startswith("placeholder") for g in gates.values())
    real = teach(ws, "drafts", flags(server))
    assert real.summary["items"] == 7 and len(server.requests) == 7


def test_sample_area_never_touches_the_main_run(ws: Workspace, server: FakeOpenAIServer) -> None:
    for stage in ("drafts", "critiques", "refine"):
        teach(ws, stage, flags(server), sample=2)
    assert len(city_gates(ws, "sample")) == 2
    assert city_gates(ws, "main") == {}
    db = ws.catalog()
    assert {r["area"] for r in db.query("SELECT area FROM plan_answers")} == {"sample"}
    db.close()
    assert teach(ws, "drafts", flags(server)).summary["items"] == 7


def test_stage_files_are_exports_of_the_catalog(ws: Workspace, server: FakeOpenAIServer) -> None:
    for stage in ("drafts", "critiques", "refine"):
        teach(ws, stage, flags(server))
    interim = ws.root / "data" / "interim"
    processed = ws.root / "data" / "processed"
    lines = lambda p: [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines()]  # noqa: E731
    assert len(lines(interim / "drafts_v1.jsonl")) == 7
    assert len(lines(interim / "critiques_v1.jsonl")) == 5
    accepted = lines(processed / "dataset_v1.jsonl")
    assert sorted(r["prompt"] for r in accepted) == ["Tips for Good1?", "Tips for Good2?"]
    assert accepted[0]["response_json"] == json.loads(GOOD) and accepted[0]["system"]
    rejected = lines(processed / "dataset_v1_rejected.jsonl")
    assert len(rejected) == 5 and all(r["gating"]["reasons"] for r in rejected)
    stats = json.loads((processed / "dataset_v1_stats.json").read_text(encoding="utf-8"))
    assert (stats["accepted"], stats["rejected"]) == (2, 5)
    # A record counts once under each rule it broke (the cut-off answer also does not parse).
    assert stats["rejected_by_rule"] == {
        "empty": 2,
        "parse": 2,
        "refusal": 1,
        "schema": 1,
        "truncated": 1,
    }
    assert 0 < stats["parse_pass_rate"] < 1
    # qa: both accepted answers are the same text, so the later one goes.
    db = ws.catalog()
    from graftwork.core.plan.qa import run_qa

    result = run_job(db, "qa", lambda job: run_qa(ws, job=job))
    db.close()
    assert result.summary["removed_by_rule"] == {"exact_duplicate": 1}
    assert len(lines(processed / "dataset_v1_clean.jsonl")) == 1
    # The recipe's examples (build/export/train): accepted, not removed by qa.
    from graftwork.core.recipes import get_recipe

    provider = get_recipe("plan").example_provider(ws)
    with ws.catalog() as db:
        usable, skipped = provider.candidates(db)
        assert [c.prompt for c in usable] == ["Tips for Good1?"]
        reasons = dict(skipped)
        assert len(reasons) == 6
        assert any(r.startswith("removed by qa: exact_duplicate") for r in reasons.values())
        assert sum(r.startswith("rejected: ") for r in reasons.values()) == 5
        ex = provider.example(db, usable[0])
    assert ex.user == "Tips for Good1?" and json.loads(ex.assistant) == json.loads(GOOD)
    assert ex.system == "You give travel tips as JSON." and ex.meta["category"] == "tips"


def test_a_decision_by_hand_is_kept_by_later_gating(
    ws: Workspace, server: FakeOpenAIServer
) -> None:
    for stage in ("drafts", "critiques", "refine"):
        teach(ws, stage, flags(server))
    gates = city_gates(ws)
    with ws.catalog() as db:
        iid = gates["NotJson"]["item_id"]
        store.decide_by_hand(db, iid, "accepted", "prose is fine here")
        db.execute("UPDATE plan_answers SET created_at = '9999' WHERE item_id = ?", [iid])
        db.conn.commit()
    assert teach(ws, "refine", flags(server)).summary["items"] == 0
    kept = city_gates(ws)["NotJson"]
    assert (kept["state"], kept["decided_by"], kept["notes"]) == (
        "accepted",
        "manual",
        ["manual: prose is fine here"],
    )


def test_status_rows_follow_each_prompt_through_the_stages(
    ws: Workspace, server: FakeOpenAIServer
) -> None:
    from graftwork.core.plan.status import counts, item_rows

    teach(ws, "drafts", flags(server), limit=4)
    with ws.catalog() as db:
        rows = item_rows(db)
    assert counts(rows)["by_stage"] == {
        "planned": 3,
        "drafted": 4,
        "critiqued": 0,
        "refined": 0,
        "accepted": 0,
        "rejected": 0,
    }
    for stage in ("drafts", "critiques", "refine"):
        teach(ws, stage, flags(server))
    with ws.catalog() as db:
        rows = item_rows(db)
    summary = counts(rows)
    assert summary["by_stage"]["accepted"] == 2 and summary["by_stage"]["rejected"] == 5
    assert summary["by_category"]["tips"]["accepted"] == 2
    good2 = next(r for r in rows if r["prompt"] == "Tips for Good2?")
    assert good2["verdict"] == "revise" and json.loads(good2["refined"]) == json.loads(GOOD)
    assert next(r for r in rows if r["prompt"] == "Tips for NotJson?")["reasons"][0].startswith(
        "parse"
    )
