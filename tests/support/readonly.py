"""Make files and folders really read-only for a test, also when the tests run as root (CI
containers often do, and root ignores permission bits): chattr +i there, chmod elsewhere."""

from __future__ import annotations

import contextlib
import os
import shutil
import stat
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest


def _chattr(flag: str, paths: list[Path]) -> bool:
    if shutil.which("chattr") is None:
        return False
    done = subprocess.run(
        ["chattr", flag, *map(str, paths)], capture_output=True, text=True, check=False
    )
    return done.returncode == 0


@contextlib.contextmanager
def read_only(*paths: Path) -> Iterator[None]:
    """Nothing under ``paths`` can be created, changed or deleted until the block ends
    (each path itself: a folder's files stay writable unless they are listed too)."""
    targets = [Path(p) for p in paths]
    if os.geteuid() == 0:
        if not _chattr("+i", targets):
            pytest.skip("running as root without chattr +i: cannot make a path read-only")
        try:
            yield
        finally:
            _chattr("-i", targets)
        return
    modes = {p: p.stat().st_mode for p in targets}
    for p in targets:
        p.chmod(stat.S_IMODE(modes[p]) & ~0o222)
    try:
        yield
    finally:
        for p, mode in modes.items():
            p.chmod(stat.S_IMODE(mode))
