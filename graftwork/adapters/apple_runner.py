"""Run one of Apple's toolkit scripts as a child process and stream its output line by line.

The toolkit (torch + tqdm) redraws progress bars with carriage returns; each redraw is a line
for us, but redraws are forwarded at most every REDRAW_EVERY seconds so a log is not flooded.
"""

from __future__ import annotations

import contextlib
import os
import queue
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from typing import IO

from graftwork.core.apple.toolkit import ToolkitCommand

REDRAW_EVERY = 1.0


def _split_lines(stream: IO[bytes], emit: Callable[[str, bool], None]) -> None:
    """Read bytes, cut at \\n (a real line) or \\r (a redraw), decode leniently."""
    buf = b""
    while chunk := stream.read1(4096) if hasattr(stream, "read1") else stream.read(4096):
        buf += chunk
        while True:
            cut = min((i for i in (buf.find(b"\n"), buf.find(b"\r")) if i >= 0), default=-1)
            if cut < 0:
                break
            line, sep, buf = buf[:cut], buf[cut : cut + 1], buf[cut + 1 :]
            emit(line.decode("utf-8", "replace").rstrip(), sep == b"\r")
    if buf:
        emit(buf.decode("utf-8", "replace").rstrip(), False)


def run_command(
    command: ToolkitCommand, on_line: Callable[[str], None], should_stop: Callable[[], bool]
) -> int:
    """Run ``command`` in the toolkit folder; return its exit code (130 if we stopped it)."""
    env = dict(os.environ)
    if command.cwd is not None:  # `python -m examples.train_adapter` needs the root on the path
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(command.cwd), env.get("PYTHONPATH")) if p
        )
    env["PYTHONUNBUFFERED"] = "1"
    proc = subprocess.Popen(
        command.argv,
        cwd=command.cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    lines: queue.Queue[str | None] = queue.Queue()
    last_redraw = 0.0

    def emit(line: str, redraw: bool) -> None:
        nonlocal last_redraw
        if not line:
            return
        if redraw:
            now = time.monotonic()
            if now - last_redraw < REDRAW_EVERY:
                return
            last_redraw = now
        lines.put(line)

    def read() -> None:
        try:
            _split_lines(proc.stdout, emit)
        finally:
            lines.put(None)

    # The reader thread only queues; on_line runs here, in the caller's thread, because it
    # usually writes to a SQLite connection that belongs to this thread.
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    stopped = False
    try:
        while True:
            try:
                line = lines.get(timeout=0.1)
            except queue.Empty:
                line = ""
            if line is None:
                break
            if line:
                on_line(line)
            if not stopped and proc.poll() is None and should_stop():
                stopped = True
                _stop(proc)
    finally:
        if proc.poll() is None:  # Ctrl-C or an error here: never leave the toolkit running
            _stop(proc)
        # The pipe ends with the process (EOF); close it once the reader has seen the end
        # (else Python 3.13 warns of an unclosed file when the Popen is collected).
        reader.join(timeout=5)
        if proc.stdout is not None and not reader.is_alive():
            proc.stdout.close()
    code = proc.wait()
    return 130 if stopped else code


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGINT first (the toolkit can save what it has), SIGKILL after 10 s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGINT)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
