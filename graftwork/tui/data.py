"""Read model of the workstation. Every function here takes the calling thread's own catalog
connection and is only ever called from worker threads, never on the UI thread."""

from __future__ import annotations

import glob
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.services import item_folder

NONE = "—"


@dataclass
class WidgetRow:
    id: str
    name: str
    author: str
    kind: str  # jsx | coffee | js | none | — (not analyzed)
    download: str  # ok | failed | —
    prompt: str  # draft | accepted | rejected | —
    tokens: int | None
    action: str  # keep | exclude | —
    decision: str  # include | exclude | needs_work | —
    over_by: int = 0
    parts: dict[str, int] = field(default_factory=dict)

    def haystack(self) -> str:
        return f"{self.id}\n{self.name}\n{self.author}".casefold()


ROWS_SQL = """
select i.id, i.name, i.author, a.kind, d.status as download, b.total_tokens, b.action,
       b.over_by, b.parts, c.decision,
       (select state from prompt_revisions p where p.item_id = i.id order by rev desc limit 1)
         as prompt_state
from items i
left join downloads d on d.item_id = i.id
left join analysis a on a.item_id = i.id
left join budget b on b.item_id = i.id
left join curation c on c.item_id = i.id
{where}
order by i.manifest_order, i.id
"""


def _parts(raw: str | None) -> dict[str, int]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return {str(k): int(v) for k, v in data.items() if isinstance(v, int | float)}


def load_rows(db: Any, item_id: str | None = None) -> list[WidgetRow]:
    """Every row, or only ``item_id``'s (a one-item refresh must not read the whole catalog)."""
    if item_id is None:
        sql, params = ROWS_SQL.format(where=""), []
    else:
        sql, params = ROWS_SQL.format(where="where i.id = ?"), [item_id]
    return [
        WidgetRow(
            id=r["id"],
            name=r["name"] or "",
            author=r["author"] or "",
            kind=r["kind"] or NONE,
            download=r["download"] or NONE,
            prompt=r["prompt_state"] or NONE,
            tokens=r["total_tokens"],
            action=r["action"] or NONE,
            decision=r["decision"] or NONE,
            over_by=r["over_by"] or 0,
            parts=_parts(r["parts"]),
        )
        for r in db.query(sql, params)
    ]


@dataclass
class Revision:
    rev: int
    text: str
    state: str
    origin: str
    created_at: str
    note: str | None


@dataclass
class Detail:
    id: str
    name: str
    author: str
    description: str
    repo_url: str
    kind: str
    download_status: str
    download_error: str | None
    folder: Path
    folder_exists: bool
    files: list[str]
    code: str
    screenshot: Path | None
    revisions: list[Revision]
    decision: str
    note: str | None

    @property
    def prompt(self) -> str:
        return self.revisions[-1].text if self.revisions else ""


MAX_CODE_CHARS = 60_000  # the detail view shows the start of very large widgets


def load_revisions(db: Any, item_id: str) -> list[Revision]:
    return [
        Revision(
            r["rev"],
            r["text"] or "",
            r["state"] or "",
            r["origin"] or "",
            r["created_at"] or "",
            r["note"],
        )
        for r in db.query(
            "select rev, text, state, origin, created_at, note from prompt_revisions "
            "where item_id = ? order by rev",
            [item_id],
        )
    ]


def find_screenshot(ws: Workspace, item_id: str, recorded: str | None) -> Path | None:
    if recorded:
        path = Path(recorded)
        path = path if path.is_absolute() else ws.root / path
        if path.is_file():
            return path
    shots = ws.downloads_dir / ".screenshots"
    if shots.is_dir():
        for candidate in sorted(shots.glob(f"{glob.escape(item_id)}.*")):  # ids are user data
            if candidate.is_file():
                return candidate
    return None


def load_detail(ws: Workspace, db: Any, item_id: str) -> Detail | None:
    from graftwork.core.sources.uebersicht import load_widget_code

    items = list(db.query("select * from items where id = ?", [item_id]))
    if not items:
        return None
    item = items[0]
    try:
        manifest = json.loads(item["manifest"] or "{}")
    except ValueError:
        manifest = {}
    dl = next(iter(db.query("select * from downloads where item_id = ?", [item_id])), {})
    an = next(iter(db.query("select * from analysis where item_id = ?", [item_id])), {})
    cur = next(iter(db.query("select * from curation where item_id = ?", [item_id])), {})
    folder = item_folder(ws, db, item_id)
    exists = folder.is_dir()
    files: list[str] = []
    code = ""
    if exists:
        files = sorted(
            p.relative_to(folder).as_posix()
            for p in folder.rglob("*")
            if p.is_file() and not p.is_symlink()
        )[:500]
        code = load_widget_code(folder)[:MAX_CODE_CHARS]
    return Detail(
        id=item_id,
        name=item["name"] or "",
        author=item["author"] or "",
        description=item["description"] or "",
        repo_url=str(manifest.get("repoUrl") or manifest.get("repo_url") or ""),
        kind=an.get("kind") or NONE,
        download_status=dl.get("status") or NONE,
        download_error=dl.get("error"),
        folder=folder,
        folder_exists=exists,
        files=files,
        code=code,
        screenshot=find_screenshot(ws, item_id, dl.get("screenshot_path")),
        revisions=load_revisions(db, item_id),
        decision=cur.get("decision") or NONE,
        note=cur.get("note"),
    )


@dataclass
class JobRow:
    id: str
    kind: str
    state: str
    total: int | None
    done: int
    failed: int
    started_at: str
    ended_at: str | None
    params: dict[str, Any]
    error: str | None


def load_jobs(db: Any, limit: int = 200) -> list[JobRow]:
    out = []
    for r in db.query("select * from jobs order by started_at desc limit ?", [limit]):
        try:
            params = json.loads(r["params"] or "{}")
        except ValueError:
            params = {}
        out.append(
            JobRow(
                r["id"],
                r["kind"] or "",
                r["state"] or "",
                r["total"],
                r["done"] or 0,
                r["failed"] or 0,
                r["started_at"] or "",
                r["ended_at"],
                params,
                r["error"],
            )
        )
    return out


def load_job_logs(db: Any, job_id: str, limit: int = 5000) -> list[dict[str, Any]]:
    return list(
        db.query(
            "select ts, level, item_id, message from job_logs where job_id = ? order by id limit ?",
            [job_id, limit],
        )
    )
