"""Assemble the training examples from the catalog: every JSX widget (analysis.is_jsx, no
analysis error) with a current prompt. The assistant text is the widget's code as
`load_widget_code` concatenates it. Items that cannot be used are skipped with a reason;
items whose files are broken are failures (the run goes on)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftwork.core.base.project import ProjectConfig
from graftwork.core.dataset.examples import Example, make_example
from graftwork.core.prompts.current import current_prompts
from graftwork.core.sources.uebersicht import load_widget_code

_JSX_SQL = """
SELECT a.item_id, a.folder, a.code_sha256 FROM analysis a LEFT JOIN items i ON i.id = a.item_id
WHERE a.is_jsx = 1 AND (a.error IS NULL OR a.error = '')
ORDER BY COALESCE(i.manifest_order, 1e18), a.item_id
"""


@dataclass(frozen=True)
class Candidate:
    """A usable widget before its code is read (analysis row + current prompt)."""

    item_id: str
    folder: str
    prompt: str
    code_sha256: str | None  # analysis' hash of load_widget_code's output


@dataclass
class Candidates:
    examples: list[Example] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def jsx_widgets(db: Any) -> list[tuple[str, str, str | None]]:
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


def list_candidates(db: Any) -> tuple[list[Candidate], list[tuple[str, str]]]:
    """JSX widgets with a usable current prompt, and the skipped ones with their reason."""
    prompts = current_prompts(db)
    out: list[Candidate] = []
    skipped: list[tuple[str, str]] = []
    for item_id, folder, code_sha in jsx_widgets(db):
        if item_id not in prompts:
            skipped.append((item_id, "no prompt yet"))
            continue
        text, state = prompts[item_id]
        if state == "rejected":
            skipped.append((item_id, "current prompt is rejected"))
        elif not text.strip():
            skipped.append((item_id, "current prompt is empty"))
        else:
            out.append(Candidate(item_id, folder, text, code_sha))
    return out, skipped


def make_examples(
    cands: list[Candidate], downloads_dir: Path, project: ProjectConfig
) -> Candidates:
    """Read each candidate's code and build its Example; unreadable widgets are failures."""
    out = Candidates()
    for c in cands:
        try:
            code = widget_code(downloads_dir, c.item_id, c.folder)
        except (ValueError, OSError) as exc:
            out.failed.append((c.item_id, str(exc)))
            continue
        out.examples.append(
            make_example(c.item_id, project.system_prompt, project.tool, c.prompt, code)
        )
    return out


def load_candidates(db: Any, downloads_dir: Path, project: ProjectConfig) -> Candidates:
    cands, skipped = list_candidates(db)
    out = make_examples(cands, downloads_dir, project)
    out.skipped = skipped
    return out
