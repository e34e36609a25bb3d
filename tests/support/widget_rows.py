"""Catalog rows and widget folders for budget/build tests: our own tiny widget sources, real
SQLite rows written the way ingest/analyze/prompts write them."""

from __future__ import annotations

import hashlib
from pathlib import Path

from graftwork.core.base.catalog.db import now
from graftwork.core.base.workspace import Workspace
from graftwork.core.sources.uebersicht import load_widget_code


def widget_source(name: str, lines: int = 3) -> str:
    body = "\n".join(f'  <div className="row-{i}">{name} line {i}</div>' for i in range(lines))
    return (
        f'export const command = "echo {name}";\n'
        "export const refreshFrequency = 1000;\n"
        f"export const render = ({{ output }}) => (\n <div>\n{body}\n </div>\n);\n"
    )


def add_widget(
    db,
    ws: Workspace,
    item_id: str,
    *,
    prompt: str | None = "Create an Übersicht widget that shows the time.",
    code: str | None = None,
    files: dict[str, str] | None = None,
    is_jsx: bool = True,
    error: str | None = None,
    order: int = 0,
    state: str = "draft",
) -> Path:
    """Item + download folder + analysis row (+ one prompt revision when ``prompt`` is given)."""
    folder = f"{item_id}/{item_id}.widget"
    root = ws.downloads_dir / folder
    root.mkdir(parents=True, exist_ok=True)
    for rel, text in (
        files or {"index.jsx": code if code is not None else widget_source(item_id)}
    ).items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text, encoding="utf-8")
    stamp = now()
    db["items"].upsert(
        {
            "id": item_id,
            "source": "uebersicht",
            "name": item_id,
            "author": "t",
            "description": f"{item_id} widget",
            "manifest": "{}",
            "manifest_order": order,
            "added_at": stamp,
            "updated_at": stamp,
        },
        pk="id",
    )
    db["analysis"].upsert(
        {
            "item_id": item_id,
            "kind": "jsx" if is_jsx else "coffee",
            "is_jsx": int(is_jsx),
            "is_coffee": int(not is_jsx),
            "has_js": 0,
            "folder": folder,
            "files": "[]",
            "file_count": 1,
            "error": error,
            "analyzed_at": stamp,
            # as analyze stores it: the hash of exactly what build concatenates
            "code_sha256": hashlib.sha256(load_widget_code(root).encode()).hexdigest(),
        },
        pk="item_id",
    )
    if prompt is not None:
        add_prompt(db, item_id, prompt, state=state)
    return root


def add_prompt(db, item_id: str, text: str, state: str = "draft") -> None:
    rows = db.execute(
        "SELECT MAX(rev) FROM prompt_revisions WHERE item_id = ?", [item_id]
    ).fetchone()
    rev = (rows[0] or 0) + 1
    db["prompt_revisions"].insert(
        {
            "item_id": item_id,
            "rev": rev,
            "text": text,
            "sha256": hashlib.sha256(text.encode()).hexdigest(),
            "state": state,
            "origin": "manual",
            "provenance": "{}",
            "note": None,
            "created_at": now(),
        }
    )


def curate(db, item_id: str, decision: str, note: str = "") -> None:
    db["curation"].upsert(
        {"item_id": item_id, "decision": decision, "note": note, "updated_at": now()}, pk="item_id"
    )
