"""A repository's file tree, README and file texts, read from a folder on disk.

Rules (docs/recipes/readmes.md repeats them):
- A git work tree lists its tracked files (`git ls-files`), so .gitignore is already applied;
  submodules are left out and named in the notes.
- A plain folder is walked; every .gitignore on the way is honoured (pathspec's gitignore
  matcher; a deeper file overrides a shallower one, as git does).
- Folders named in `skip_dirs` (vendored, generated, caches such as node_modules, .git, dist,
  build, vendor) are left out at any depth, tracked or not.
- A symlink is listed when it points inside the repository; one that points outside is left
  out and named in the notes (its target is never read).
- More files than `max_files` refuses the repository (RepoError).
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

import pathspec

from graftwork.core.sources.readmes.model import RepoError

# Preference when several READMEs sit at the root: Markdown first, plain last.
README_EXTS = (".md", ".markdown", ".mdown", ".rst", ".txt", "")


def readme_rank(name: str) -> int | None:
    """Rank of a root file name as a README (lower is better), None if it is not one."""
    stem, dot, ext = name.partition(".")
    if stem.lower() != "readme":
        return None
    ext = f".{ext.lower()}" if dot else ""
    return README_EXTS.index(ext) if ext in README_EXTS else None


def pick_readme(paths: Iterable[str]) -> str | None:
    """The README among root-level paths ("README.md" over "readme.rst" over "README")."""
    ranked = [(rank, p) for p in paths if "/" not in p and (rank := readme_rank(p)) is not None]
    return min(ranked)[1] if ranked else None


def check_readme_size(path: str, size: int, max_bytes: int) -> None:
    if size > max_bytes:
        raise RepoError(f"{path} is {_size(size)}, over the {_size(max_bytes)} limit")


def decode_readme(path: str, data: bytes, max_bytes: int) -> str:
    check_readme_size(path, len(data), max_bytes)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RepoError(f"{path} is not UTF-8 (invalid byte at offset {exc.start})") from None
    if not text.strip():
        raise RepoError(f"{path} is empty")
    return text


def _size(n: int) -> str:
    return f"{n / 1_000_000:.1f} MB" if n >= 100_000 else f"{n:,} bytes"


def skipped_by_dir(path: str, skip_dirs: frozenset[str]) -> bool:
    parts = path.split("/")
    return any(part in skip_dirs for part in parts[:-1])


def _inside(root_real: str, target: str) -> bool:
    return target == root_real or target.startswith(root_real + os.sep)


def _symlink_ok(root: Path, root_real: str, rel: str, notes: list[str]) -> bool:
    target = os.path.realpath(root / rel)
    if _inside(root_real, target):
        return True
    notes.append(f"symlink {rel} points outside the repository; left out")
    return False


def list_tracked(
    root: Path,
    tracked: list[str],
    submodules: list[str],
    *,
    skip_dirs: frozenset[str],
    max_files: int,
) -> tuple[list[str], list[str]]:
    """Files of a git work tree from its tracked paths: (files, notes)."""
    if len(tracked) > max_files:
        raise RepoError(f"{len(tracked):,} files, over the limit of {max_files:,} (max_files)")
    notes = [f"submodule {s} not collected" for s in submodules]
    subs = set(submodules)
    root_real = os.path.realpath(root)
    files: list[str] = []
    for rel in tracked:
        if rel in subs or skipped_by_dir(rel, skip_dirs):
            continue
        try:
            mode = os.lstat(root / rel).st_mode
        except OSError:
            continue  # tracked but deleted in the work tree: the tree is what is on disk
        if stat.S_ISLNK(mode) and not _symlink_ok(root, root_real, rel, notes):
            continue
        files.append(rel)
    return sorted(files), notes


class _Ignores:
    """The .gitignore files met on the walk, deepest first when asked."""

    def __init__(self) -> None:
        self.specs: list[tuple[str, pathspec.GitIgnoreSpec]] = []  # (folder prefix, spec)

    def push(self, folder: Path, prefix: str) -> bool:
        path = folder / ".gitignore"
        if not path.is_file() or path.is_symlink():
            return False
        try:
            lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError:
            return False
        self.specs.append((prefix, pathspec.GitIgnoreSpec.from_lines(lines)))
        return True

    def pop(self) -> None:
        self.specs.pop()

    def ignored(self, rel: str, is_dir: bool) -> bool:
        for prefix, spec in reversed(self.specs):
            sub = rel[len(prefix) :] if prefix else rel
            result = spec.check_file(sub + "/" if is_dir else sub)
            if result.include is not None:
                return bool(result.include)
        return False


def walk_folder(
    root: Path, *, skip_dirs: frozenset[str], max_files: int
) -> tuple[list[str], list[str]]:
    """Files of a plain folder, .gitignore honoured: (files, notes)."""
    root_real = os.path.realpath(root)
    ignores = _Ignores()
    files: list[str] = []
    notes: list[str] = []

    def visit(folder: Path, prefix: str) -> None:
        pushed = ignores.push(folder, prefix)
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            notes.append(f"{prefix or '.'}: cannot list ({exc.strerror}); left out")
            entries = []
        for entry in entries:
            rel = prefix + entry.name
            is_link = entry.is_symlink()
            is_dir = entry.is_dir(follow_symlinks=False)
            if is_dir and entry.name in skip_dirs:
                continue
            if ignores.ignored(rel, is_dir):
                continue
            if is_link:
                # A linked folder is listed as one path and never walked (no loops, no escapes).
                if _symlink_ok(root, root_real, rel, notes):
                    files.append(rel)
            elif is_dir:
                visit(Path(entry.path), rel + "/")
            elif entry.is_file(follow_symlinks=False):
                files.append(rel)
                if len(files) > max_files:
                    raise RepoError(f"more than {max_files:,} files (max_files)")
        if pushed:
            ignores.pop()

    visit(root, "")
    return sorted(files), notes


def read_text_file(root: Path, rel: str, max_bytes: int) -> str | None:
    """A file's text (UTF-8, at most ``max_bytes`` read), None when unreadable or binary."""
    path = root / rel
    try:
        if path.is_symlink() and not _inside(os.path.realpath(root), os.path.realpath(path)):
            return None
        with open(path, "rb") as fh:
            data = fh.read(max_bytes)
    except OSError:
        return None
    if b"\x00" in data:
        return None
    return data.decode("utf-8", errors="replace")
