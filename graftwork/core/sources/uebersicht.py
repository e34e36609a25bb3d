"""Übersicht widgets: a `*.widget` folder whose index.jsx (or .coffee) exports
`command`, `refreshFrequency`, `render` and styles."""

from __future__ import annotations

from pathlib import Path

CODE_SUFFIX = ".jsx"


def _is_macos_junk(rel: Path) -> bool:
    # Zips made on a Mac carry AppleDouble twins (`._index.jsx`) and __MACOSX/ folders:
    # binary metadata that must never become training data.
    return any(part == "__MACOSX" or part.startswith("._") for part in rel.parts)


def jsx_files(folder: Path) -> list[Path]:
    """Every .jsx file under ``folder``, in sorted relative-path order (symlinks and macOS
    metadata ignored)."""
    files = [
        p
        for p in folder.rglob(f"*{CODE_SUFFIX}")
        if p.is_file() and not p.is_symlink() and not _is_macos_junk(p.relative_to(folder))
    ]
    return sorted(files, key=lambda p: p.relative_to(folder).as_posix())


def load_widget_code(folder: Path) -> str:
    """Concatenate the widget's .jsx files, each preceded by a comment naming its path."""
    chunks = []
    for path in jsx_files(folder):
        rel = path.relative_to(folder).as_posix()
        text = path.read_bytes().decode("utf-8", errors="replace")
        chunks.append(f"// File: {rel}\n{text.rstrip()}\n")
    return "\n".join(chunks)
