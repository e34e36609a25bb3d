"""The `ollama` command line: found on PATH, run as a child process (`ollama create`)."""

from __future__ import annotations

import shutil
import subprocess


def find_ollama() -> str | None:
    return shutil.which("ollama")


def run_ollama(argv: list[str], timeout: float = 3600) -> tuple[int, str]:
    """(exit code, the last lines of its output)."""
    try:
        proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return 1, str(exc)
    tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-3:])
    return proc.returncode, tail
