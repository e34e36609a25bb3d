"""Run the real `graftwork` entry point: in-process (exit code, stdout/stderr via capsys) or
in a child process as a user runs it (`run_cli`)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from graftwork.core.base.workspace import Workspace


def run_main(ws: Workspace, *args: str) -> int:
    """`graftwork -w WS ARGS...`; its exit code."""
    from graftwork.cli import main

    with pytest.raises(SystemExit) as done:
        main(["-w", str(ws.root), *args])
    return int(done.value.code or 0)


def run_cli(
    *args: str,
    ws: Workspace | None = None,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """`graftwork [-w WS] ARGS...` in a child process: wide output (COLUMNS=200, so lines are
    not wrapped), no model downloads, no workspace from the environment, stdin closed (nothing
    waits for an answer); ``env`` adds to the environment."""
    full = {**os.environ, "COLUMNS": "200", "HF_HUB_OFFLINE": "1", **(env or {})}
    full.pop("GRAFTWORK_WORKSPACE", None)
    where = ["-w", str(ws.root)] if ws is not None else []
    return subprocess.run(
        [sys.executable, "-m", "graftwork", *where, *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=full,
        timeout=timeout,
        stdin=subprocess.DEVNULL,
    )


def one_line(err: str) -> str:
    """The only line of ``err``; fails on more lines or a traceback."""
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]
