"""`graftwork teach` as a user runs it: real subprocesses, a real server on 127.0.0.1, a run
killed with SIGKILL in the middle and resumed, dry runs with nobody listening, clear errors."""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.cli import run_cli
from support.fake_openai_server import FakeOpenAIServer
from support.widget_rows import add_widget

from graftwork.core.base.workspace import Workspace
from graftwork.core.teach.port import ChatRequest

KEY = "sk-cli-SECRET-KEY-99x7q"


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    db = workspace.catalog()
    for i in range(12):
        add_widget(db, workspace, f"w{i:02d}", prompt=None, order=i)
    db.close()
    return workspace


def gw(
    ws: Workspace, *args: str, env_key: bool = True, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, ws=ws, env={"GW_CLI_KEY": KEY} if env_key else None, timeout=timeout)


def teacher_flags(server: FakeOpenAIServer, concurrency: int = 2) -> list[str]:
    return [
        "--base-url",
        server.base_url,
        "--api-key-env",
        "GW_CLI_KEY",
        "--concurrency",
        str(concurrency),
    ]


def closed_port_url() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}/v1"


def request_hash(body: dict, base_url: str) -> str:
    return ChatRequest(
        body["model"], body["messages"], body["temperature"], body["max_tokens"]
    ).hash(base_url)


def query(ws: Workspace, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(ws.db_path, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


@pytest.mark.slow
@pytest.mark.parametrize("again", [["--resume"], []], ids=["resume", "run-again"])
def test_killed_bulk_run_resumes_without_repeating_finished_calls(
    ws: Workspace, again: list[str]
) -> None:
    with FakeOpenAIServer() as server:
        # Seven replies go through; every later request is held at the server until the kill:
        # the run dies in the middle with exactly seven calls finished, however loaded the box.
        server.hold_after(7)
        cmd = [
            sys.executable,
            "-m",
            "graftwork",
            "-w",
            str(ws.root),
            "teach",
            "prompts",
            "--yes",
            "--critique",
            *teacher_flags(server),
        ]
        proc = subprocess.Popen(
            cmd,
            env={**os.environ, "GW_CLI_KEY": KEY},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and proc.poll() is None:
            if ws.db_path.exists():
                try:
                    if (
                        query(ws, "SELECT COUNT(*) FROM teacher_calls WHERE status = 'ok'")[0][0]
                        >= 7
                    ):
                        break
                except sqlite3.OperationalError:
                    pass  # tables not created yet
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        server.release()
        finished = {
            h for (h,) in query(ws, "SELECT request_hash FROM teacher_calls WHERE status = 'ok'")
        }
        seen_before_kill = len(server.requests)
        assert 7 <= len(finished) < 24, "the run was not killed in the middle"

        done = gw(ws, "teach", "prompts", "--yes", "--critique", *again, *teacher_flags(server))
        assert done.returncode == 0, done.stderr

        later = [
            request_hash(r["body"], server.base_url) for r in server.requests[seen_before_kill:]
        ]
        assert not finished & set(later), "a finished call was sent again"
        assert len(later) == len(set(later))
        all_ok = [request_hash(r["body"], server.base_url) for r in server.served("ok")]
        assert all(all_ok.count(h) == 1 for h in finished)
    assert query(ws, "SELECT COUNT(*) FROM teacher_calls WHERE status = 'started'")[0][0] == 0
    per_item = dict(
        query(
            ws,
            "SELECT item_id, COUNT(*) FROM prompt_revisions WHERE origin = 'teacher' "
            "AND state = 'accepted' GROUP BY item_id",
        )
    )
    assert per_item == {f"w{i:02d}": 1 for i in range(12)}
    summary = done.stdout
    assert "12 accepted" in summary or "accepted" in summary


def test_dry_run_needs_no_server_and_no_key(ws: Workspace) -> None:
    url = closed_port_url()
    out = gw(
        ws,
        "teach",
        "prompts",
        "--dry-run",
        "--limit",
        "3",
        "--base-url",
        url,
        "--api-key-env",
        "NOT_SET",
        env_key=False,
    )
    assert out.returncode == 0, out.stderr
    assert (
        "dry run, no network" in out.stderr and "dry run: nothing stored as prompts" in out.stdout
    )
    assert query(ws, "SELECT COUNT(*) FROM prompt_revisions")[0][0] == 0
    sample = gw(
        ws, "teach", "prompts", "--dry-run", "--sample", "2", "--base-url", url, env_key=False
    )
    assert sample.returncode == 0, sample.stderr
    shown = gw(ws, "teach", "samples", env_key=False)
    assert "[dry-run]" in shown.stdout and "w00" in shown.stdout
    rows = gw(ws, "teach", "log", "--json", env_key=False).stdout.splitlines()
    assert len(rows) == 5 and {json.loads(r)["status"] for r in rows} == {"dry-run"}


def test_401_exits_2_with_a_clear_message_and_no_key(ws: Workspace) -> None:
    with FakeOpenAIServer() as server:
        server.script({"status": 401})
        out = gw(ws, "teach", "prompts", "--yes", *teacher_flags(server, concurrency=1))
        assert len(server.requests) == 1
    assert out.returncode == 2
    assert "refused the API key from $GW_CLI_KEY (HTTP 401)" in out.stderr
    assert KEY not in out.stderr + out.stdout
    log = gw(ws, "teach", "log", "--errors")
    assert "auth-error" in log.stdout and KEY not in log.stdout
    assert KEY.encode() not in ws.db_path.read_bytes()


def test_estimate_json_and_log_table(ws: Workspace) -> None:
    with FakeOpenAIServer() as server:
        est = json.loads(
            gw(
                ws,
                "teach",
                "estimate",
                "--json",
                "--limit",
                "4",
                "--refine",
                *teacher_flags(server),
            ).stdout
        )
        assert est["items"] == 4 and est["calls"] == 12 and est["cost_max"] > 0
        assert est["calls_by_stage"] == {"draft": 4, "critique": 4, "refine": 4}
        server.script({"status": 500})
        out = gw(
            ws, "teach", "prompts", "--yes", "--limit", "2", *teacher_flags(server, concurrency=1)
        )
        assert out.returncode == 0, out.stderr
        assert "2 accepted, 0 rejected, 0 failed" in out.stdout and "calls sent 2" in out.stdout
    table = gw(ws, "teach", "log").stdout
    assert "teacher calls" in table and "w00" in table and "w01" in table
    errors = gw(ws, "teach", "log", "--errors", "--json").stdout.splitlines()
    assert len(errors) == 1 and "HTTP 500" in json.loads(errors[0])["retries"]
    jobs = query(ws, "SELECT kind, state, summary FROM jobs WHERE kind = 'teach'")
    assert jobs[0][:2] == ("teach", "done") and json.loads(jobs[0][2])["accepted"] == 2
    logs = [m for (m,) in query(ws, "SELECT message FROM job_logs")]
    assert any("cost so far" in m for m in logs)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--gating", "harsh"], "Invalid value for '--gating'"),
        (["--widgets", "w01,nope"], "unknown widget(s): nope"),
        (["--limit", "0"], "Invalid value for '--limit'"),
        (["--api-key-env", "UNSET_VAR_X"], "set the environment variable UNSET_VAR_X"),
        (["--base-url", "localhost:1234"], "base_url must start with http"),
    ],
)
def test_bad_input_is_a_clear_usage_error(ws: Workspace, args: list[str], message: str) -> None:
    out = gw(ws, "teach", "prompts", "--yes", *args)
    assert out.returncode == 2 and message in out.stderr, out.stderr


def test_nothing_to_do_is_not_an_error(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "empty")
    out = gw(ws, "teach", "prompts", "--yes", "--base-url", closed_port_url())
    assert out.returncode == 0 and "nothing to teach" in out.stdout
