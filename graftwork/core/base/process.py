"""Is a process still there? Used to tell a killed job, writer or temp folder from a live one."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path


def pid_alive(pid: int) -> bool:
    """Whether a process with this id exists on this machine (someone else's counts)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True
    return True


def write_lock_pids(path: Path, start: int | None = None) -> list[int]:
    """The processes holding a POSIX write lock on ``path`` (at byte ``start`` when given),
    read from /proc/locks; [] where there is no /proc (macOS) or nothing holds one."""
    try:
        st = path.stat()
        table = Path("/proc/locks").read_text(encoding="ascii", errors="replace")
    except OSError:
        return []
    where = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    pids: list[int] = []
    for line in table.splitlines():
        # "1: POSIX  ADVISORY  WRITE 25176 fe:00:2392600 120 120"
        fields = line.split()
        if len(fields) < 8 or fields[1] != "POSIX" or fields[3] != "WRITE":
            continue
        if fields[5] != where or (start is not None and fields[6] != str(start)):
            continue
        with contextlib.suppress(ValueError):
            pid = int(fields[4])
            if pid > 0 and pid != os.getpid() and pid not in pids:
                pids.append(pid)
    return pids


def command_line(pid: int, width: int = 60) -> str:
    """What process ``pid`` runs ("python -m graftwork ingest ..."), or "" when unknown."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    args = [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
    if args:
        args[0] = Path(args[0]).name  # "/home/x/.venv/bin/python3" says little more than python3
    text = " ".join(" ".join(args).split())  # one line: `python -c` code has newlines
    return text if len(text) <= width else text[: width - 1] + "…"
