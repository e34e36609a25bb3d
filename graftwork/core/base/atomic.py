"""Write files so that a crash never leaves a half-written one: temp file, fsync, rename."""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from graftwork.core.base.process import pid_alive


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO[Any]]:
    """Yield a file handle; on success the content replaces ``path`` in one rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep(path.parent, path.name)  # what a killed writer of this file left behind
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    binary = "b" in mode
    try:
        with os.fdopen(
            fd, mode, encoding=None if binary else encoding, newline=None if binary else ""
        ) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_text(path: Path, text: str) -> None:
    with atomic_writer(path) as fh:
        fh.write(text)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_writer(path, "wb") as fh:
        fh.write(data)


def write_json(path: Path, data: Any, *, indent: int | None = 2) -> None:
    write_text(path, json.dumps(data, indent=indent, ensure_ascii=False) + "\n")


# ".<name>.<pid>.<random>.tmp": the writer's pid says whether the temp file is still in use.
_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.tmp$")


def _sweep(folder: Path, name: str | None = None) -> int:
    """Delete temp files of atomic_writer whose writer is gone (killed mid-write); only
    those of ``name`` when given. Best effort: what cannot be deleted stays."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        m = _TEMP.match(entry.name)
        if not m or (name is not None and m.group("name") != name):
            continue
        pid = int(m.group("pid"))
        if pid == os.getpid() or pid_alive(pid):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed += 1
    return removed


def sweep_temp_files(*folders: Path) -> int:
    """Delete every temp file a killed writer left in ``folders``; how many."""
    return sum(_sweep(Path(f)) for f in folders)
