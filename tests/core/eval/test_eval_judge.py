"""eval --judge against the real fake teacher server on 127.0.0.1 (real openai client, real
SQLite): pairs asked in both orders, so a judge that only looks at the position scores the
adapter 50%, while one that reads the answers finds the better one; every call logged, a rerun
sends only what never came back, the cost is estimated first, the key is never stored.

The answers come from a scripted generator (a stand-in for the mlx child process, which
test_eval_run.py runs for real): these tests are about judging."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.eval_world import evaluate_suite, scripted, stub_run
from support.fake_openai_server import FakeOpenAIServer
from support.review_world import make_run

from graftwork import wiring
from graftwork.core.base.workspace import Workspace
from graftwork.core.eval.judge import adapter_score, parse_verdict
from graftwork.core.eval.store import eval_items, latest_scores
from graftwork.core.stages import run_stage

KEY = "sk-judge-secret-123"
N = 4


@pytest.fixture
def evaluated(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> tuple[Workspace, str, str]:
    monkeypatch.setenv("GW_JUDGE_KEY", KEY)
    workspace.config_path.write_text("recipe: templates\n")  # its metric: exact match
    suite = workspace.root / "capitals.jsonl"
    suite.write_text(
        "".join(
            json.dumps(
                {
                    "id": f"c{i}",
                    "prompt": f"Capital of Land{i}?",
                    "reference": f"The capital is City{i}.",
                }
            )
            + "\n"
            for i in range(N)
        )
    )
    run_id = stub_run(workspace, "capitals")
    answers = scripted(
        lambda which, i: "I am not sure." if which == "base" else f"The capital is City{i}."
    )
    result = evaluate_suite(workspace, run_id, str(suite), answers)
    return workspace, run_id, result.summary["eval_id"]


def flags(server: FakeOpenAIServer, **extra: Any) -> dict[str, Any]:
    return {
        "base_url": server.base_url,
        "api_key_env": "GW_JUDGE_KEY",
        "retries": 0,
        "concurrency": 2,
        **extra,
    }


def test_verdicts_and_the_position_swap() -> None:
    assert parse_verdict('Sure: {"winner": "B", "reason": "closer"}') == ("B", "closer")
    assert parse_verdict('```json\n{"winner": "tie"}\n```') == ("tie", "")
    assert parse_verdict("a") == ("A", "")
    with pytest.raises(ValueError, match="names no winner"):
        parse_verdict("Both are fine, I think.")
    # A is the base answer in the first order, the adapter's in the second
    assert (adapter_score("B", "base"), adapter_score("A", "adapter")) == (1.0, 1.0)
    assert (adapter_score("A", "base"), adapter_score("B", "adapter")) == (0.0, 0.0)
    assert adapter_score("tie", "base") == 0.5


def test_judge_reading_answers_prefers_adapter(evaluated: tuple[Workspace, str, str]) -> None:
    ws, run_id, eval_id = evaluated
    with FakeOpenAIServer() as server:  # its judge counts the reference's words in each answer
        est = wiring.eval_judge_estimate(ws, run_id, overrides=flags(server))
        assert (est["eval_id"], est["pairs"], est["calls"], est["calls_reused"]) == (
            eval_id,
            N,
            2 * N,
            0,
        )
        assert est["input_tokens"] > 0 and est["output_tokens_max"] == 2 * N * 400
        result = run_stage(ws, "eval.judge", {"run_id": run_id, "overrides": flags(server)})
        bodies = [r["body"] for r in server.served()]
    assert len(bodies) == 2 * N and all(b["temperature"] == 0.0 for b in bodies)
    firsts = [b["messages"][1]["content"].split("## Answer A\n")[1].split("\n")[0] for b in bodies]
    assert (
        sorted(f.startswith("The capital") for f in firsts) == [False] * N + [True] * N
    )  # both orders
    s = result.summary
    assert s["judged"] == N and s["scores"]["judge_score"] == 1.0
    assert s["scores"]["judge_adapter_wins"] == 1.0 and s["scores"]["judge_inconsistent"] == 0.0
    assert s["scores"]["judge_first_position"] == 0.5  # the adapter won as A and as B
    with ws.catalog() as db:
        scores = latest_scores(db, run_id)
        pairs = [i for i in eval_items(db, eval_id) if i["model"] == "pair"]
        logged = db.execute(
            "select count(*) from teacher_calls where stage like 'judge-%'"
        ).fetchone()[0]
        run = db.execute(
            "select area, state from teach_runs where id = ?", [s["run_id"]]
        ).fetchone()
    assert scores["judge_score"]["pair"] == 1.0 and scores["judge_score"]["eval_id"] == eval_id
    assert (scores["exact_match"]["base"], scores["exact_match"]["adapter"]) == (0.0, 1.0)
    assert len(pairs) == N and all(
        p["metrics"]["orders"] == {"judge-ab": "B", "judge-ba": "A"} for p in pairs
    )
    assert logged == 2 * N and tuple(run) == ("eval-judge", "done")
    report = (ws.runs_dir / run_id / "eval_capitals.md").read_text(encoding="utf-8")
    assert "| judge_score | 100.0% | 4 |" in report
    assert KEY.encode() not in Path(ws.db_path).read_bytes()


def test_position_bias_cancels_out(evaluated: tuple[Workspace, str, str]) -> None:
    ws, run_id, _ = evaluated
    always_a = lambda body: json.dumps({"winner": "A", "reason": "the first one"})  # noqa: E731
    with FakeOpenAIServer(responder=always_a) as server:
        result = run_stage(ws, "eval.judge", {"run_id": run_id, "overrides": flags(server)})
    s = result.summary["scores"]
    assert s["judge_score"] == 0.5  # not 0 or 1: each pair won once as A, lost once as B
    assert s["judge_first_position"] == 1.0 and s["judge_inconsistent"] == 1.0
    assert s["judge_adapter_wins"] == s["judge_base_wins"] == 0.0


def test_rerun_sends_only_unanswered_calls(evaluated: tuple[Workspace, str, str]) -> None:
    ws, run_id, _ = evaluated
    with FakeOpenAIServer() as server:
        # one call at a time: the first order of the first two pairs fails, so those two pairs
        # fail without asking their second order (4 calls unanswered, 4 answered)
        server.script({"status": 500}, {"status": 500})
        first = run_stage(
            ws, "eval.judge", {"run_id": run_id, "overrides": flags(server, concurrency=1)}
        )
        assert [item for item, _ in first.failed] == ["c0", "c1"]
        assert all(cause.startswith("judge-ab: ") for _, cause in first.failed)
        est = wiring.eval_judge_estimate(ws, run_id, overrides=flags(server))
        assert est["calls"] == 4 and est["calls_reused"] == 2 * N - 4
        sent_before = len(server.requests)
        again = run_stage(ws, "eval.judge", {"run_id": run_id, "overrides": flags(server)})
        assert len(server.requests) - sent_before == 4  # only those that never came back
    assert not again.failed and again.summary["calls_reused"] == 2 * N - 4
    assert again.summary["scores"]["judge_score"] == 1.0


def test_judge_needs_an_evaluation(workspace: Workspace) -> None:
    from graftwork.core.eval.judge import JudgeError

    run_id = make_run(workspace, "capitals", "some/model")
    with (
        FakeOpenAIServer() as server,
        pytest.raises(JudgeError, match="run `graftwork eval` first"),
    ):
        wiring.eval_judge_estimate(workspace, run_id, overrides=flags(server))


def _ok_calls(ws: Workspace) -> int:
    with ws.catalog() as db:
        return db.execute(
            "select count(*) from teacher_calls where stage like 'judge-%' and status = 'ok'"
        ).fetchone()[0]


def test_a_401_stops_the_judge_and_resume_continues_its_run(
    evaluated: tuple[Workspace, str, str],
) -> None:
    from graftwork.core.teach.port import TeacherAuthError

    ws, run_id, eval_id = evaluated
    with FakeOpenAIServer() as server:
        # one call at a time: the first pair is judged in both orders, then the key is refused
        server.script({}, {}, {"status": 401})
        with pytest.raises(TeacherAuthError):
            run_stage(
                ws, "eval.judge", {"run_id": run_id, "overrides": flags(server, concurrency=1)}
            )
        assert len(server.requests) == 3  # nothing sent after the 401, never retried
        with ws.catalog() as db:
            stopped = db.execute("select id, state from teach_runs").fetchall()
        assert [s[1] for s in stopped] == ["stopped"]
        est = wiring.eval_judge_estimate(ws, run_id, overrides=flags(server), resume=True)
        assert (est["run_id"], est["eval_id"], est["calls"]) == (stopped[0][0], eval_id, 2 * N - 2)
        sent = len(server.requests)
        again = run_stage(
            ws, "eval.judge", {"run_id": run_id, "overrides": flags(server), "resume": True}
        )
        assert len(server.requests) - sent == 2 * N - 2  # the first pair's verdicts were kept
    s = again.summary
    assert s["run_id"] == stopped[0][0] and s["judged"] == N and not again.failed
    assert s["scores"]["judge_score"] == 1.0
    with ws.catalog() as db:
        assert db.execute("select state from teach_runs").fetchall() == [("done",)]


def test_an_unknown_model_stops_the_judge(evaluated: tuple[Workspace, str, str]) -> None:
    from graftwork.core.teach.port import TeacherStopError

    ws, run_id, _ = evaluated
    with FakeOpenAIServer() as server:
        # every call answers 404 (scripting one would race with the calls in flight beside it)
        server.script(*[{"status": 404}] * 20)
        with pytest.raises(TeacherStopError, match="check base_url"):
            run_stage(ws, "eval.judge", {"run_id": run_id, "overrides": flags(server)})
        assert len(server.requests) <= 2  # the calls already in flight; nothing after the 404
    with ws.catalog() as db:
        assert "judge_score" not in latest_scores(db, run_id)


def test_a_cancelled_judge_resumes_without_paying_twice(
    evaluated: tuple[Workspace, str, str],
) -> None:
    import threading

    from support.fake_openai_server import default_responder

    from graftwork.core.base.jobs import Cancelled

    ws, run_id, _ = evaluated
    cancel, release = threading.Event(), threading.Event()
    seen: list[int] = []

    def cancel_on_second(body: dict[str, Any]) -> str:
        seen.append(1)
        if len(seen) == 2:  # the user cancels while the second call waits for its reply
            cancel.set()
            release.wait(30)
        return default_responder(body)

    with FakeOpenAIServer(responder=cancel_on_second) as server:
        try:
            with pytest.raises(Cancelled, match="continue with --resume"):
                run_stage(
                    ws,
                    "eval.judge",
                    {"run_id": run_id, "overrides": flags(server, concurrency=1)},
                    cancel_event=cancel,
                )
        finally:
            release.set()
        with ws.catalog() as db:
            assert db.execute("select state from jobs where kind = 'eval.judge'").fetchall() == [
                ("cancelled",)
            ]
        again = run_stage(
            ws, "eval.judge", {"run_id": run_id, "overrides": flags(server), "resume": True}
        )
    assert again.summary["judged"] == N and again.summary["scores"]["judge_score"] == 1.0
    assert _ok_calls(ws) == 2 * N  # every order paid once, across both runs
