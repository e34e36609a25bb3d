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


# ---- whole folders: build beside, then rename ---------------------------------------------

# ".<name>.<pid>.<random>.partial" (being built) and ".<name>.<pid>.<random>.old" (the folder
# a forced replace moved aside): the pid says whether the writer is still alive.
_DIR_TEMP = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)\.[A-Za-z0-9_]+\.(partial|old)$")


def _sweep_dirs(folder: Path, name: str) -> None:
    """Delete what dead writers of ``folder/name`` left. A writer killed between its two
    renames (old folder moved aside, new one not yet in place) left no ``name`` at all: its
    moved-aside ``.old`` is the last complete folder, so it is put back instead."""
    import shutil

    try:
        entries = sorted(os.scandir(folder), key=lambda e: not e.name.endswith(".old"))
    except OSError:
        return
    dest = Path(folder) / name
    for entry in entries:
        m = _DIR_TEMP.match(entry.name)
        if not m or m.group("name") != name:
            continue
        pid = int(m.group("pid"))
        if pid == os.getpid() or pid_alive(pid):
            continue
        if entry.name.endswith(".old") and not dest.exists():
            with contextlib.suppress(OSError):
                os.replace(entry.path, dest)
                continue
        shutil.rmtree(entry.path, ignore_errors=True)


def sweep_staged(dest: Path) -> None:
    """Tidy what a killed ``staged_dir`` writer of ``dest`` left (its partial folder, or its
    moved-aside old folder, put back when ``dest`` is missing). Call it before reading a
    folder that a process which may have been killed was replacing."""
    dest = Path(dest)
    _sweep_dirs(dest.parent, dest.name)


@contextlib.contextmanager
def staged_dir(dest: Path, *, replace: bool = False) -> Iterator[Path]:
    """Yield an empty folder beside ``dest``; when the block ends without an error it becomes
    ``dest`` in one rename, else it is deleted. So ``dest`` is either absent, the old folder or
    the complete new one, also after a kill (the next call deletes what a dead writer left).

    An existing non-empty ``dest`` is an error (FileExistsError) unless ``replace``: then the
    old folder is moved aside just before the rename and deleted after it."""
    import shutil

    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _sweep_dirs(dest.parent, dest.name)
    stage = Path(
        tempfile.mkdtemp(prefix=f".{dest.name}.{os.getpid()}.", suffix=".partial", dir=dest.parent)
    )
    try:
        # mkdtemp makes it private (0700); the published folder gets the usual mode
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(stage, 0o777 & ~mask)
        yield stage
        old: Path | None = None
        if dest.exists() and (not dest.is_dir() or any(dest.iterdir())):
            if not replace:
                raise FileExistsError(dest)
            old = Path(str(stage)[: -len(".partial")] + ".old")
            os.replace(dest, old)
        elif dest.is_dir():
            dest.rmdir()  # an empty folder: nothing to keep
        os.replace(stage, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
