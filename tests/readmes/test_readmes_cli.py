"""The readmes commands as a user runs them: real `graftwork` subprocesses, real git repos,
a real GitHub stand-in on 127.0.0.1, a teacher SIGKILLed mid-run and resumed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from helpers import PY_FILES, configure
from support.fake_openai_server import FakeOpenAIServer
from support.git_repos import make_repo, write_files
from support.http_server import LocalServer, Reply

from graftwork.core.base.workspace import Workspace
from graftwork.core.recipes import get_recipe
from graftwork.core.stages import STAGES, get_stage

GRAFTWORK = Path(sys.executable).with_name("graftwork")
TOKEN = "ghp_cli_secret_token_4242"


def gw(ws: Workspace, *args: str, env: dict[str, str] | None = None, timeout: float = 300):
    full = {**os.environ, "COLUMNS": "200", **(env or {})}
    return subprocess.run(
        [str(GRAFTWORK), "-w", str(ws.root), *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=timeout,
    )


def test_recipe_and_stages_are_declared(workspace: Workspace) -> None:
    recipe = get_recipe("readmes")
    assert recipe.stages == (
        "collect",
        "chunk",
        "teach.instructions",
        "budget",
        "build",
        "records",
    )
    # The recipe module declares its stages (get_stage also loads the registry's own list).
    assert STAGES["teach.instructions"].job_kind == "instruct"
    for name in recipe.stages:
        assert callable(get_stage(name).resolve())
    assert recipe.example_provider(workspace).candidates(workspace.catalog())[0] == []


def test_collect_and_chunk_commands_report_and_exit_by_outcome(
    workspace: Workspace, tmp_path: Path
) -> None:
    good = make_repo(tmp_path / "good", PY_FILES)
    bare = make_repo(tmp_path / "bare", {"a.py": "x = 1\n"})
    done = gw(workspace, "collect", str(good), str(bare))
    assert done.returncode == 1, done.stderr
    assert "collect: 1 repositories collected, 1 failed" in done.stdout
    assert "bare: no README at the top level" in done.stderr
    assert "Traceback" not in done.stderr
    chunked = gw(workspace, "chunk")
    assert chunked.returncode == 0, chunked.stderr
    assert chunked.stdout.startswith("chunk: 1 chunks from 1 READMEs")
    nothing = gw(workspace, "collect")
    assert nothing.returncode == 2 and "nothing to collect" in nothing.stderr


def test_a_rejected_github_token_stops_with_exit_2_and_no_token_shown(
    workspace: Workspace, tmp_path: Path
) -> None:
    with LocalServer() as server:
        server.route("/repos/octo/tool", Reply(status=401, body=b'{"message":"Bad credentials"}'))
        configure(workspace, github={"api_url": server.url(""), "retries": 0})
        done = gw(
            workspace,
            "collect",
            "--api",
            "https://github.com/octo/tool",
            env={"GITHUB_TOKEN": TOKEN},
        )
    assert done.returncode == 2
    assert "GitHub rejected the token in $GITHUB_TOKEN (401 Unauthorized)" in done.stderr
    assert TOKEN not in done.stdout + done.stderr
    assert "Traceback" not in done.stderr


def test_teach_instructions_killed_mid_run_resumes_without_repeating_calls(
    workspace: Workspace, tmp_path: Path
) -> None:
    configure(workspace, chunk={"min_chars": 60, "max_chars": 200})
    parts = [
        f"## Part {n}\n\n" + f"Part {n} says one thing about the tool. " * 4 for n in range(12)
    ]
    write_files(tmp_path / "tool", {**PY_FILES, "README.md": "\n\n".join(parts)})
    assert gw(workspace, "collect", str(tmp_path / "tool")).returncode == 0
    assert gw(workspace, "chunk").returncode == 0
    env = {"GW_KEY": "sk-cli-key"}
    with FakeOpenAIServer() as server:
        flags = ["--base-url", server.base_url, "--api-key-env", "GW_KEY", "--concurrency", "1"]
        est = gw(workspace, "teach", "instructions", "--estimate", *flags, env=env)
        assert est.returncode == 0 and "in batches of 3" in est.stdout
        # Two replies go through; the third request is held at the server until the kill, so
        # the run dies mid-way with exactly two calls stored, however loaded the machine.
        server.hold_after(2)
        proc = subprocess.Popen(
            [str(GRAFTWORK), "-w", str(workspace.root), "teach", "instructions", "-y", *flags],
            env={**os.environ, **env},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 120
        while server.held() < 1 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)  # concurrency 1: the third request comes after two are stored
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        server.release()
        with workspace.catalog() as db:
            finished = [
                json.loads(r[0])["messages"][-1]["content"]
                for r in db.execute("SELECT request FROM teacher_calls WHERE status = 'ok'")
            ]
        resumed = gw(workspace, "teach", "instructions", "-y", "--resume", *flags, env=env)
        assert resumed.returncode == 0, resumed.stderr
        bodies = [r["body"]["messages"][-1]["content"] for r in server.served()]
    assert len(finished) == 2
    for body in finished:  # a call that finished before the kill was never sent again
        assert bodies.count(body) == 1
    assert len(set(bodies)) == 4  # 12 chunks in batches of 3
    with workspace.catalog() as db:
        stored = db.execute(
            "SELECT COUNT(*) FROM prompt_revisions WHERE origin = 'teacher'"
        ).fetchone()[0]
    assert stored == 12
