"""Run the real `graftwork` entry point in-process (exit code, stdout/stderr via capsys)."""

from __future__ import annotations

import pytest

from graftwork.core.base.workspace import Workspace


def run_main(ws: Workspace, *args: str) -> int:
    """`graftwork -w WS ARGS...`; its exit code."""
    from graftwork.cli import main

    with pytest.raises(SystemExit) as done:
        main(["-w", str(ws.root), *args])
    return int(done.value.code or 0)


def one_line(err: str) -> str:
    """The only line of ``err``; fails on more lines or a traceback."""
    lines = [ln for ln in err.strip().splitlines() if ln.strip()]
    assert len(lines) == 1, err
    assert "Traceback" not in err
    return lines[0]
