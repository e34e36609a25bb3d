"""The instruct stage against the real fake OpenAI server on 127.0.0.1 (real openai client,
real SQLite): batches, retries, splitting, failures, resume without repeated calls, dry run,
sample area, estimate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import PY_FILES, collect, configure
from support.fake_openai_server import FakeOpenAIServer
from support.git_repos import write_files

from graftwork import wiring
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts import prompts
from graftwork.core.sources.readmes.chunks import chunk_stage
from graftwork.core.teach.port import TeacherAuthError

SECTIONS = 7


def readme() -> str:
    parts = ["# Reporter\n"]
    for n in range(SECTIONS):
        parts.append(f"## Part {n}\n\n" + f"Part {n} explains one thing about the reporter. " * 4)
    return "\n\n".join(parts)


@pytest.fixture
def server():
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def ws(workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("GW_TEACH_KEY", "sk-test-key")
    configure(workspace, chunk={"min_chars": 60, "max_chars": 260})
    write_files(tmp_path / "reporter", {**PY_FILES, "README.md": readme()})
    assert collect(workspace, str(tmp_path / "reporter")).ok == 1
    with workspace.catalog() as db:
        result = run_job(db, "chunk", lambda job: chunk_stage(workspace, job=job))
    assert result.summary["chunks"] == SECTIONS
    return workspace


def flags(server: FakeOpenAIServer, **extra) -> dict:
    return {"base_url": server.base_url, "api_key_env": "GW_TEACH_KEY", "concurrency": 2,
            "backoff_seconds": 0, **extra}  # fmt: skip


def run(ws: Workspace, overrides: dict, **options):
    with ws.catalog() as db:
        return run_job(
            db, "instruct", lambda job: wiring.instruct(ws, overrides=overrides, job=job, **options)
        )


def chunk_ids(ws: Workspace) -> list[str]:
    with ws.catalog() as db:
        return [r[0] for r in db.execute("SELECT item_id FROM readme_chunks ORDER BY idx")]


def current(ws: Workspace) -> dict[str, dict]:
    with ws.catalog() as db:
        return prompts.current_all(db)


def sections_asked(body: dict) -> int:
    return body["messages"][-1]["content"].count("### Section ")


def test_batches_of_three_give_one_accepted_instruction_per_chunk(ws, server) -> None:
    result = run(ws, flags(server))
    assert result.ok == SECTIONS and not result.failed
    assert sorted(sections_asked(r["body"]) for r in server.served()) == [1, 3, 3]
    cur = current(ws)
    for item_id in chunk_ids(ws):
        rev = cur[item_id]
        assert rev["origin"] == "teacher" and rev["state"] == "accepted"
        assert rev["text"].startswith("Write README section")
        assert rev["provenance"]["stage"] == "instruct" and item_id in rev["provenance"]["batch"]
    first = server.served()[0]["body"]["messages"]
    assert first[0]["content"].startswith("[stage:instruct]")
    assert "About, Built With, Getting Started, Usage, License" in first[0]["content"]
    assert "File tree:\n- README.md" in first[1]["content"]  # the repository's context
    assert first[1]["content"].count("Repository: reporter") == 1  # once per batch
    again = run(ws, flags(server))
    assert again.summary["chunks"] == 0  # every chunk has its accepted instruction


def test_a_wrong_count_is_asked_again_with_the_reason(ws, server) -> None:
    server.script({"text": json.dumps([{"instruction": "only one"}])})
    result = run(ws, flags(server), limit=3)
    assert result.ok == 3
    bodies = [r["body"]["messages"][-1]["content"] for r in server.served()]
    assert len(bodies) == 2
    assert "could not be used: the reply has 1 instruction(s) for 3 section(s)" in bodies[1]
    assert result.summary["unusable_replies"] == 1


def test_a_batch_that_stays_unusable_is_split_and_a_hopeless_chunk_fails(ws, server) -> None:
    ids = chunk_ids(ws)
    bad_text = "Part 1 explains"

    def responder(body: dict) -> str:
        user = body["messages"][-1]["content"]
        if bad_text in user:
            return "Sure! Here are your instructions: ..."  # not JSON, whatever is asked
        n = user.count("### Section ")
        return json.dumps([{"instruction": f"Write part {i}."} for i in range(n)])

    server.responder = responder
    result = run(ws, flags(server, concurrency=1), limit=3)
    bad = next(i for i in ids[:3] if bad_text in _chunk_text(ws, i))
    assert result.ok == 2
    assert result.failed == [(bad, "no usable instruction: the reply is not JSON")]
    asked = [sections_asked(r["body"]) for r in server.served()]
    assert asked == [3, 3, 1, 1, 1, 1]  # batch, batch again, then one by one (bad one twice)
    with ws.catalog() as db:
        row = db.execute(
            "SELECT instruct_state, instruct_error FROM readme_chunks WHERE item_id = ?", [bad]
        ).fetchone()
    assert row == ("failed", "no usable instruction: the reply is not JSON")
    assert current(ws)[bad]["origin"] == "template"  # its prompt is untouched


def test_a_chunk_that_cannot_be_read_fails_alone_and_the_run_goes_on(ws, server) -> None:
    ids = chunk_ids(ws)
    with ws.catalog() as db, db.conn:
        db.conn.execute("UPDATE readme_chunks SET repo_id = 'gone' WHERE item_id = ?", [ids[1]])
    result = run(ws, flags(server, concurrency=1), limit=3)
    assert result.ok == 2
    assert result.failed == [(ids[1], "no usable instruction: repository gone not in the catalog")]
    assert [sections_asked(r["body"]) for r in server.served()] == [1, 1]  # the readable two


def _chunk_text(ws: Workspace, item_id: str) -> str:
    with ws.catalog() as db:
        return db.execute("SELECT text FROM readme_chunks WHERE item_id = ?", [item_id]).fetchone()[
            0
        ]


def test_a_stopped_run_resumes_without_sending_a_finished_call_again(ws, server) -> None:
    server.script({}, {"status": 401})  # the 2nd call: the key is rejected, the run stops
    with pytest.raises(TeacherAuthError):
        run(ws, flags(server, concurrency=1))
    assert len(server.served()) == 1
    resumed = run(ws, flags(server, concurrency=1), resume=True)
    assert resumed.summary["run_id"] and resumed.ok == SECTIONS
    asked = [sections_asked(r["body"]) for r in server.served()]
    assert asked == [3, 3, 1]  # the first batch was never sent twice
    assert resumed.summary["calls_sent"] == 2


def test_dry_run_sends_nothing_and_stores_no_prompts(ws, server) -> None:
    result = run(ws, flags(server, dry_run=True))
    assert result.ok == SECTIONS and server.requests == []
    assert all(r["origin"] == "template" for r in current(ws).values())


def test_sample_area_leaves_prompts_alone(ws, server) -> None:
    result = run(ws, flags(server), sample=2)
    assert result.ok == 2
    with ws.catalog() as db:
        samples = list(db.query("SELECT * FROM teach_samples"))
    assert len(samples) == 2
    assert all(r["origin"] == "template" for r in current(ws).values())


def test_estimate_counts_batches_and_then_reuses_them(ws, server) -> None:
    est = wiring.instruct_estimate(ws, overrides=flags(server))
    assert (est["chunks"], est["calls"], est["batch_size"]) == (SECTIONS, 3, 3)
    assert est["input_tokens"] > 0 and est["output_tokens_max"] == 3 * 400
    est2 = wiring.instruct_estimate(ws, overrides=flags(server), batch_size=2)
    assert est2["calls"] == 4
