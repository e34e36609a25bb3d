"""Teach runs end to end against the real fake server on 127.0.0.1 (real openai client, real
SQLite): chain, gating, failures, 401 stop, resume, dry run, sample area, key hygiene."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest
from support.fake_openai_server import FakeOpenAIServer
from support.widget_rows import add_widget, curate

from graftwork import wiring
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts import prompts
from graftwork.core.teach.port import ChatRequest, TeacherAuthError

KEY = "sk-graftwork-TEST-KEY-7f3a9c1e55"


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("GW_TEACH_KEY", KEY)
    db = workspace.catalog()
    for i in range(5):
        add_widget(db, workspace, f"w{i}", prompt="Template draft.", order=i)
    db.close()
    return workspace


def wait_until(cond, timeout: float = 60.0) -> None:
    """Poll ``cond`` until it holds; a generous bound, so a loaded machine only waits longer."""
    import time

    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.01)


def flags(server: FakeOpenAIServer, **extra) -> dict:
    return {"base_url": server.base_url, "api_key_env": "GW_TEACH_KEY", "concurrency": 2, **extra}


def run(ws: Workspace, overrides: dict, **options):
    # run_job finishes the job whatever happens: a job left running by a failed run would
    # make the next teach refuse ("already running").
    with ws.catalog() as db:
        return run_job(
            db,
            "teach",
            lambda job: wiring.teach_prompts(ws, overrides=overrides, job=job, **options),
        )


def teacher_revisions(ws: Workspace) -> list[dict]:
    with ws.catalog() as db:
        rows = list(
            db.query(
                "SELECT * FROM prompt_revisions WHERE origin = 'teacher' ORDER BY item_id, rev"
            )
        )
        return [prompts._decode(r) for r in rows]


def test_draft_critique_refine_chain_stores_accepted_revisions_with_provenance(ws, server) -> None:
    server.responder = lambda body: (
        json.dumps({"verdict": "revise", "issues": ["say how often it refreshes"]})
        if "[stage:critique]" in body["messages"][0]["content"]
        else "Create an Übersicht widget that prints the output of a shell command in a small panel, refreshing every second."
    )
    result = run(ws, flags(server), critique=True, refine=True)
    assert result.ok == 5 and not result.failed
    assert result.summary["calls_sent"] == 15  # draft + critique + refine for each widget
    revs = teacher_revisions(ws)
    assert [r["item_id"] for r in revs] == [f"w{i}" for i in range(5)]
    for rev in revs:
        assert rev["state"] == "accepted"
        prov = rev["provenance"]
        assert prov["stages"] == ["draft", "critique", "refine"] and len(prov["call_ids"]) == 3
        assert prov["model"] == "gpt-4o-mini" and prov["gating"]["passed"] is True
        assert prov["critique"]["issues"] == ["say how often it refreshes"]
    # The refine request quoted the critique's issue; every call is logged with usage and cost.
    refine_bodies = [
        r["body"]
        for r in server.served()
        if "[stage:refine]" in r["body"]["messages"][0]["content"]
    ]
    assert (
        len(refine_bodies) == 5
        and "say how often it refreshes" in refine_bodies[0]["messages"][1]["content"]
    )
    db = ws.catalog()
    rows = list(db.query("SELECT * FROM teacher_calls"))
    db.close()
    assert len(rows) == 15 and all(
        r["status"] == "ok" and r["input_tokens"] > 0 and r["cost"] > 0 for r in rows
    )
    assert all(json.loads(r["request"])["model"] == "gpt-4o-mini" for r in rows)


def test_critique_pass_skips_refinement_and_a_second_run_has_nothing_to_do(ws, server) -> None:
    result = run(ws, flags(server), critique=True, refine=True)
    assert result.summary["calls_sent"] == 10  # the default critique passes: no refinement
    before = len(server.requests)
    again = run(ws, flags(server))
    assert again.summary["items"] == 0 and len(server.requests) == before


def test_strict_gating_keeps_rejected_drafts_with_reasons(ws, server) -> None:
    server.responder = lambda body: "```jsx\nexport const command = 'date';\n```"
    result = run(ws, flags(server), gating="strict", limit=2)
    assert result.ok == 0 and len(result.skipped) == 2
    assert all("contains code" in reason for _, reason in result.skipped)
    revs = teacher_revisions(ws)
    assert [r["state"] for r in revs] == ["rejected", "rejected"]
    assert "contains code" in revs[0]["note"]


def test_lenient_accepts_soft_problems_that_strict_rejects(ws, server) -> None:
    server.responder = lambda body: "Sure, a widget that shows disk use."  # short + preamble
    assert run(ws, flags(server), limit=1).ok == 1
    assert teacher_revisions(ws)[0]["note"].startswith("short")
    result = run(ws, flags(server), widgets=["w1"], gating="strict")
    assert result.ok == 0 and "starts with a preamble" in result.skipped[0][1]


def test_one_widget_failing_does_not_stop_the_others(ws, server) -> None:
    overrides = flags(server, concurrency=1, backoff_seconds=0.01)
    # retries: 4 by default -> 5 malformed replies exhaust the first widget's draft.
    server.script(*[{"malformed": True}] * 5)
    result = run(ws, overrides, limit=3)
    assert [item for item, _ in result.failed] == ["w0"]
    assert "malformed JSON" in result.failed[0][1]
    assert result.ok == 2
    db = ws.catalog()
    failed = list(db.query("SELECT * FROM teacher_calls WHERE status = 'error'"))
    task = db["teach_tasks"].get((result.summary["run_id"], "w0", "draft"))
    db.close()
    assert (
        len(failed) == 1
        and failed[0]["attempts"] == 5
        and len(json.loads(failed[0]["retries"])) == 5
    )
    assert task["state"] == "failed"
    # A resume retries only the failed widget.
    sent = len(server.requests)
    again = run(ws, overrides, resume=True)
    assert again.summary["run_id"] == result.summary["run_id"] and again.ok == 3
    assert len(server.requests) == sent + 1


def test_401_stops_the_run_at_once_without_retry_and_never_shows_the_key(ws, server) -> None:
    server.script({"status": 401})
    with pytest.raises(TeacherAuthError) as info:
        run(ws, flags(server, concurrency=1))
    message = str(info.value)
    assert KEY not in message and "GW_TEACH_KEY" in message and "401" in message
    assert len(server.requests) == 1  # no retry, no other widget tried
    db = ws.catalog()
    run_row = next(iter(db.query("SELECT * FROM teach_runs")))
    db.close()
    assert run_row["state"] == "stopped"
    # After fixing the key, --resume finishes the same run.
    result = run(ws, flags(server), resume=True)
    assert result.summary["run_id"] == run_row["id"] and result.ok == 5


def test_dry_run_makes_no_network_call(ws) -> None:
    with socket.socket() as sock:  # a port with nobody listening
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    overrides = {
        "base_url": f"http://127.0.0.1:{port}/v1",
        "api_key_env": "NOT_SET_ANYWHERE",
        "dry_run": True,
    }
    result = run(ws, overrides, critique=True)
    assert result.ok == 5 and result.summary["dry_run"] is True and result.summary["cost"] == 0
    db = ws.catalog()
    rows = list(db.query("SELECT status, text FROM teacher_calls"))
    stored = [
        json.loads(r["result"])["text"]
        for r in db.query("SELECT result FROM teach_tasks WHERE stage = 'store'")
    ]
    db.close()
    assert len(rows) == 10 and {r["status"] for r in rows} == {"dry-run"}
    assert all(text.startswith("[dry-run]") for text in stored)
    assert teacher_revisions(ws) == []  # placeholders never become prompts


def test_sample_area_never_touches_main_prompts(ws, server) -> None:
    db = ws.catalog()
    before = list(db.query("SELECT * FROM prompt_revisions ORDER BY id"))
    db.close()
    result = run(ws, flags(server), sample=2)
    assert result.summary["area"] == "sample" and result.ok == 2
    db = ws.catalog()
    after = list(db.query("SELECT * FROM prompt_revisions ORDER BY id"))
    samples = list(db.query("SELECT * FROM teach_samples ORDER BY id"))
    db.close()
    assert after == before
    assert sorted(s["item_id"] for s in samples) == ["w0", "w1"] and all(
        s["state"] == "accepted" for s in samples
    )
    # The main run still sees every widget as untaught, and reuses the sample's finished calls.
    sent = len(server.requests)
    main = run(ws, flags(server))
    assert main.ok == 5 and main.summary["calls_reused"] == 2 and len(server.requests) == sent + 3


def test_selection_skips_accepted_excluded_and_non_jsx(ws, server) -> None:
    db = ws.catalog()
    prompts.add_revision(db, "w0", "Accepted by hand.", origin="manual", state="accepted")
    curate(db, "w1", "exclude")
    add_widget(db, ws, "coffee", prompt=None, is_jsx=False, order=9)
    db.close()
    est = wiring.teach_estimate(ws, overrides=flags(server))
    assert est["items"] == 3
    result = run(ws, flags(server))
    assert sorted(r["item_id"] for r in teacher_revisions(ws)) == ["w2", "w3", "w4"]
    assert ("w1", "excluded by curation") in result.skipped


def test_stored_revision_is_recognised_when_the_store_task_was_lost(ws, server) -> None:
    first = run(ws, flags(server), limit=1)
    db = ws.catalog()
    run_id = first.summary["run_id"]
    # Simulate a crash between add_revision and the task row: drop the task, reopen the run.
    db.execute("DELETE FROM teach_tasks WHERE run_id = ? AND stage = 'store'", [run_id])
    db.execute("UPDATE teach_runs SET state = 'running' WHERE id = ?", [run_id])
    db.conn.commit()
    db.close()
    sent = len(server.requests)
    again = run(ws, flags(server), resume=True)
    assert again.ok == 1 and len(server.requests) == sent  # the draft task was done: nothing sent
    assert len(teacher_revisions(ws)) == 1


def test_teacher_draft_for_the_tui_is_not_stored_until_accepted(ws, server) -> None:
    draft = wiring.teacher_draft(ws, "w2", overrides=flags(server))
    assert draft["text"].startswith("Create an Übersicht widget") and draft["call_id"] > 0
    assert draft["cost"] > 0 and draft["gating"]["passed"]
    assert teacher_revisions(ws) == []
    rev = wiring.accept_teacher_draft(ws, "w2", draft)
    assert rev["state"] == "accepted" and rev["origin"] == "teacher"
    assert rev["provenance"]["call_ids"] == [draft["call_id"]]
    log = wiring.teach_log(ws, limit=5)
    assert log[0]["id"] == draft["call_id"] and log[0]["stage"] == "draft"


def test_api_key_never_reaches_catalog_wal_or_logs(ws, server) -> None:
    holder = ws.catalog()  # an open connection keeps graftwork.db-wal on disk for the grep
    server.script({"status": 500}, {"status": 401})
    with pytest.raises(TeacherAuthError):
        run(ws, flags(server, concurrency=1, backoff_seconds=0.01))
    run(ws, flags(server), resume=True, critique=True)
    wiring.teacher_draft(ws, "w1", overrides=flags(server))
    assert server.served("401")  # the server did see the key (and echoed it in its error body)
    wal = ws.db_path.with_name(ws.db_path.name + "-wal")
    assert wal.is_file() and wal.stat().st_size > 0
    for path in Path(ws.root).rglob("*"):
        if path.is_file():
            assert KEY.encode() not in path.read_bytes(), path
    holder.close()
    db = ws.catalog()
    dumped = json.dumps([list(db.query(f"SELECT * FROM [{t}]")) for t in db.table_names()])
    db.close()
    assert KEY not in dumped


def test_request_hash_ignores_nothing_that_changes_the_reply() -> None:
    a = ChatRequest("m", [{"role": "user", "content": "x"}], 0.3, 10)
    assert a.hash("u") == ChatRequest("m", [{"role": "user", "content": "x"}], 0.3, 10).hash("u")
    assert a.hash("u") != ChatRequest("m", [{"role": "user", "content": "x"}], 0.4, 10).hash("u")
    assert a.hash("u") != a.hash("v") and a.hash("u").startswith("sha256:")


def test_cancelling_the_job_stops_the_run_and_resume_finishes_it(ws, server) -> None:
    import threading

    from graftwork.core.base.jobs import Cancelled, run_job

    # Two replies go through, the third call is held at the server until the cancel has
    # stopped the run: the cancel lands mid-run however slow the machine is.
    server.hold_after(2)
    cancel = threading.Event()
    outcome: dict = {}

    def work() -> None:
        with ws.catalog() as db:
            try:
                run_job(
                    db,
                    "teach",
                    lambda job: wiring.teach_prompts(
                        ws, overrides=flags(server, concurrency=1), job=job
                    ),
                    cancel_event=cancel,
                )
            except Cancelled as exc:
                outcome["cancelled"] = str(exc)

    thread = threading.Thread(target=work)
    thread.start()
    try:
        wait_until(lambda: server.held() == 1 or not thread.is_alive())
        cancel.set()
        thread.join(timeout=60)
    finally:
        server.release()
    assert not thread.is_alive() and "resume" in outcome["cancelled"]
    db = ws.catalog()
    run_row = next(iter(db.query("SELECT * FROM teach_runs")))
    job_row = next(iter(db.query("SELECT * FROM jobs WHERE kind = 'teach'")))
    finished = {
        r["request_hash"]
        for r in db.query("SELECT request_hash FROM teacher_calls WHERE status = 'ok'")
    }
    db.close()
    assert run_row["state"] == "stopped" and job_row["state"] == "cancelled"
    assert len(finished) == 2  # the two answered before the cancel; the held one never landed
    seen = len(server.requests)
    result = run(ws, flags(server), resume=True)
    assert result.ok == 5
    later = {
        ChatRequest(b["model"], b["messages"], b["temperature"], b["max_tokens"]).hash(
            server.base_url
        )
        for b in (r["body"] for r in server.requests[seen:])
    }
    assert not later & finished


def test_an_unknown_model_stops_the_run_after_one_call(ws, server) -> None:
    from graftwork.core.teach.port import TeacherStopError

    # A wrong model answers 404 to every call. Scripting only the first would let the calls in
    # flight beside it succeed and start their next stage before the 404 arrives: a race.
    server.script(*[{"status": 404}] * 20)
    with pytest.raises(TeacherStopError, match="check base_url"):
        run(ws, flags(server, concurrency=3))
    assert len(server.requests) <= 3  # only the calls already in flight; nothing sent after the 404


def test_fresh_ignores_earlier_runs_but_never_repeats_its_own_calls(ws, server) -> None:
    run(ws, flags(server), sample=2)
    sent = len(server.requests)
    first = run(ws, flags(server), fresh=True, limit=2)
    assert first.summary["calls_reused"] == 0 and len(server.requests) == sent + 2
    db = ws.catalog()
    run_id = first.summary["run_id"]
    # A crash after the replies were logged but before any task row was written.
    db.execute("DELETE FROM teach_tasks WHERE run_id = ?", [run_id])
    db.execute("UPDATE teach_runs SET state = 'running' WHERE id = ?", [run_id])
    db.conn.commit()
    db.close()
    again = run(ws, flags(server), resume=True)
    assert again.summary["run_id"] == run_id and again.summary["calls_reused"] == 2
    assert len(server.requests) == sent + 2 and len(teacher_revisions(ws)) == 2


def test_a_new_run_supersedes_unfinished_ones_and_resume_skips_widgets_accepted_meanwhile(
    ws, server
) -> None:
    server.script({"status": 401})
    with pytest.raises(TeacherAuthError):
        run(ws, flags(server, concurrency=1))
    db = ws.catalog()
    stopped_id = next(iter(db.query("SELECT id FROM teach_runs")))["id"]
    prompts.add_revision(db, "w1", "Accepted in the TUI meanwhile.", origin="tui", state="accepted")
    db.close()
    result = run(ws, flags(server), resume=True)
    assert result.summary["run_id"] == stopped_id and result.ok == 4
    assert ("w1", "has an accepted prompt now (from elsewhere)") in result.skipped
    assert sorted(r["item_id"] for r in teacher_revisions(ws)) == ["w0", "w2", "w3", "w4"]
    db = ws.catalog()
    assert (
        next(r["status"] for r in db.query("SELECT status FROM teacher_calls ORDER BY id"))
        == "auth-error"
    )
    db.execute("UPDATE teach_runs SET state = 'running' WHERE id = ?", [stopped_id])  # as if killed
    db.conn.commit()
    add_widget(db, ws, "w9", prompt=None, order=9)
    db.close()
    newer = run(ws, flags(server))
    assert newer.summary["run_id"] != stopped_id and newer.ok == 1
    db = ws.catalog()
    states = {r["id"]: r["state"] for r in db.query("SELECT id, state FROM teach_runs")}
    db.close()
    assert states == {stopped_id: "superseded", newer.summary["run_id"]: "done"}
