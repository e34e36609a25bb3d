"""Assemble the training examples from the catalog: every JSX widget (analysis.is_jsx, no
analysis error) with a current prompt. The assistant text is the widget's code as
`load_widget_code` concatenates it. Items that cannot be used are skipped with a reason;
items whose files are broken are failures (the run goes on)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftwork.core.examples import Example, make_example
from graftwork.core.project import ProjectConfig
from graftwork.core.sources.uebersicht import load_widget_code

_JSX_SQL = """
SELECT a.item_id, a.folder FROM analysis a LEFT JOIN items i ON i.id = a.item_id
WHERE a.is_jsx = 1 AND (a.error IS NULL OR a.error = '')
ORDER BY COALESCE(i.manifest_order, 1e18), a.item_id
"""
_CURRENT_PROMPTS_SQL = """
SELECT p.item_id, p.text, p.state FROM prompt_revisions p
JOIN (SELECT item_id, MAX(rev) AS rev FROM prompt_revisions GROUP BY item_id) m
  ON m.item_id = p.item_id AND m.rev = p.rev
"""


@dataclass
class Candidates:
    examples: list[Example] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def current_prompts(db: Any) -> dict[str, tuple[str, str]]:
    """item id -> (text, state) of the newest revision (the current prompt)."""
    return {row[0]: (row[1] or "", row[2] or "") for row in db.execute(_CURRENT_PROMPTS_SQL).fetchall()}


def jsx_widgets(db: Any) -> list[tuple[str, str]]:
    return [(row[0], row[1] or "") for row in db.execute(_JSX_SQL).fetchall()]


def widget_code(downloads_dir: Path, item_id: str, folder: str) -> str:
    """The widget's code; raises ValueError with a one-line cause."""
    base = downloads_dir.resolve()
    path = (base / folder).resolve() if folder else base / item_id
    if not path.is_relative_to(base):
        raise ValueError(f"widget folder {folder!r} points outside downloads/")
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
    for item_id, folder in jsx_widgets(db):
        try:
            codes[item_id] = widget_code(downloads_dir, item_id, folder)
        except (ValueError, OSError) as exc:
            failed.append((item_id, str(exc)))
    return codes, failed


def load_candidates(db: Any, downloads_dir: Path, project: ProjectConfig) -> Candidates:
    out = Candidates()
    prompts = current_prompts(db)
    for item_id, folder in jsx_widgets(db):
        text, state = prompts.get(item_id, ("", ""))
        if item_id not in prompts:
            out.skipped.append((item_id, "no prompt yet"))
            continue
        if state == "rejected":
            out.skipped.append((item_id, "current prompt is rejected"))
            continue
        if not text.strip():
            out.skipped.append((item_id, "current prompt is empty"))
            continue
        try:
            code = widget_code(downloads_dir, item_id, folder)
        except (ValueError, OSError) as exc:
            out.failed.append((item_id, str(exc)))
            continue
        out.examples.append(make_example(item_id, project.system_prompt, project.tool, text, code))
    return out
