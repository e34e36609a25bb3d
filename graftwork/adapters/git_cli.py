"""The git CLI behind core's GitPort: shallow clones and the tracked files of a work tree.

git never prompts (GIT_TERMINAL_PROMPT=0: a private repository fails at once instead of
waiting for a password) and messages never show credentials embedded in a URL."""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import shutil
import subprocess

from graftwork.core.sources.readmes.model import RepoError

_CREDENTIALS = re.compile(r"(://)[^/@\s]+@")


def scrub(text: str) -> str:
    """``https://user:token@host/x`` -> ``https://***@host/x``."""
    return _CREDENTIALS.sub(r"\1***@", text)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(GIT_TERMINAL_PROMPT="0", GIT_LFS_SKIP_SMUDGE="1", LC_ALL="C")
    return env


class GitCli:
    def __init__(self, exe: str | None = None) -> None:
        self.exe = exe if exe is not None else shutil.which("git")

    def available(self) -> bool:
        return self.exe is not None

    async def clone(self, url: str, dest: str, *, timeout: float) -> None:
        if self.exe is None:
            raise RepoError("git is not installed")
        proc = await asyncio.create_subprocess_exec(
            self.exe,
            "clone",
            "--depth",
            "1",
            "--no-recurse-submodules",
            "--quiet",
            "--",
            url,
            dest,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
            stdin=asyncio.subprocess.DEVNULL,
            env=_env(),
        )
        try:
            _, err = await asyncio.wait_for(proc.communicate(), timeout)
        except (TimeoutError, asyncio.CancelledError) as exc:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()
            if isinstance(exc, asyncio.CancelledError):
                raise
            raise RepoError(f"git clone timed out after {timeout:g} s") from None
        if proc.returncode != 0:
            lines = [ln.strip() for ln in err.decode("utf-8", "replace").splitlines() if ln.strip()]
            cause = next((ln for ln in reversed(lines) if ln.startswith("fatal:")), None)
            cause = cause or (lines[-1] if lines else f"exit code {proc.returncode}")
            raise RepoError(f"git clone failed: {scrub(cause)}")

    def _run(self, root: str, *args: str) -> bytes | None:
        if self.exe is None:
            return None
        try:
            done = subprocess.run(
                [self.exe, "-C", root, *args],
                capture_output=True,
                env=_env(),
                timeout=120,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        return done.stdout if done.returncode == 0 else None

    def tracked(self, root: str) -> tuple[list[str], list[str]] | None:
        """Tracked files and submodule paths when ``root`` is the top of a git work tree;
        None otherwise (a plain folder, or a folder inside some other repository)."""
        top = self._run(root, "rev-parse", "--show-toplevel")
        if top is None or os.path.realpath(top.decode().strip()) != os.path.realpath(root):
            return None
        out = self._run(root, "ls-files", "-s", "-z")
        if out is None:
            return None
        files: list[str] = []
        submodules: list[str] = []
        for entry in out.decode("utf-8", "surrogateescape").split("\0"):
            if not entry:
                continue
            meta, _, path = entry.partition("\t")
            (submodules if meta.startswith("160000") else files).append(path)
        return files, submodules
