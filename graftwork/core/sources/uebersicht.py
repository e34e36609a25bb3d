"""Übersicht widgets: a `*.widget` folder whose index.jsx (or .coffee) exports
`command`, `refreshFrequency`, `render` and styles."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from graftwork.core.dataset.examples import Example, make_example, sha256_text
from graftwork.core.sources.base import Candidate

if TYPE_CHECKING:
    from graftwork.core.base.project import ProjectConfig
    from graftwork.core.base.workspace import Workspace

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


# ---- examples: the recipe's ExampleProvider ------------------------------------------------
_JSX_SQL = """
SELECT a.item_id, a.folder, a.code_sha256 FROM analysis a LEFT JOIN items i ON i.id = a.item_id
WHERE a.is_jsx = 1 AND (a.error IS NULL OR a.error = '')
ORDER BY COALESCE(i.manifest_order, 1e18), a.item_id
"""


def jsx_widgets(db: Any) -> list[tuple[str, str, str | None]]:
    """(id, folder, analysis' code hash) of every usable JSX widget, in catalog order."""
    return [(r[0], r[1] or "", r[2]) for r in db.execute(_JSX_SQL).fetchall()]


def widget_code(downloads_dir: Path, item_id: str, folder: str) -> str:
    """The widget's code; raises ValueError with a one-line cause."""
    # Lexical check (ingest never extracts symlinks): cheap enough for 2,000 widgets per build.
    rel = os.path.normpath(folder or item_id)
    if os.path.isabs(rel) or rel == ".." or rel.startswith(".." + os.sep):
        raise ValueError(f"widget folder {folder!r} points outside downloads/")
    path = downloads_dir / rel
    if not path.is_dir():
        raise ValueError(f"widget folder downloads/{folder or item_id} is missing")
    code = load_widget_code(path)
    if not code.strip():
        raise ValueError(f"no .jsx files under downloads/{folder or item_id}")
    return code


def load_codes(db: Any, downloads_dir: Path) -> tuple[dict[str, str], list[tuple[str, str]]]:
    """Code of every JSX widget (no prompt needed) and the (id, cause) failures."""
    codes: dict[str, str] = {}
    failed: list[tuple[str, str]] = []
    for item_id, folder, _ in jsx_widgets(db):
        try:
            codes[item_id] = widget_code(downloads_dir, item_id, folder)
        except (ValueError, OSError) as exc:
            failed.append((item_id, str(exc)))
    return codes, failed


class UebersichtProvider:
    """Widgets as examples: the project's system prompt and tool, the current prompt as the
    user turn and the widget's concatenated .jsx code as the answer."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        self._project: ProjectConfig | None = None

    @property
    def project(self) -> ProjectConfig:
        if self._project is None:
            from graftwork.core.base.project import load_project

            self._project = load_project(self.ws)
        return self._project

    def candidates(self, db: Any) -> tuple[list[Candidate], list[tuple[str, str]]]:
        from graftwork.core.dataset.candidates import current_prompts, prompt_skip_reason

        prompts = current_prompts(db)
        out: list[Candidate] = []
        skipped: list[tuple[str, str]] = []
        for item_id, folder, code_sha in jsx_widgets(db):
            reason = prompt_skip_reason(prompts.get(item_id))
            if reason:
                skipped.append((item_id, reason))
            else:
                out.append(Candidate(item_id, prompts[item_id][0], code_sha, folder))
        return out, skipped

    def _example(self, item_id: str, folder: str, prompt: str) -> Example:
        code = widget_code(self.ws.downloads_dir, item_id, folder)
        cfg = self.project
        return make_example(item_id, cfg.system_prompt, cfg.tool, prompt, code)

    def example(self, db: Any, cand: Candidate) -> Example:
        return self._example(cand.item_id, cand.ref, cand.prompt)

    def example_for(self, db: Any, item_id: str, prompt: str) -> Example:
        rows = db.execute("SELECT folder FROM analysis WHERE item_id = ?", [item_id]).fetchall()
        return self._example(item_id, (rows[0][0] if rows else "") or "", prompt)

    def read_ident(self, cand: Candidate, example: Example) -> str:
        # load_widget_code ends every file, so the whole code, with exactly one newline and
        # make_example strips it: this is the hash analysis stores for the code actually read.
        return sha256_text(example.assistant + "\n")


def provider(ws: Workspace) -> UebersichtProvider:
    return UebersichtProvider(ws)
