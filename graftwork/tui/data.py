"""Read model of the workstation. Every function here takes the calling thread's own catalog
connection and is only ever called from worker threads, never on the UI thread."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.ingest.screenshots import find_screenshot
from graftwork.core.prompts.current import current_state_expr
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
    tokenizer: str = ""  # the budget row's tokenizer id (counts_exact says exact or not)
    category: str = ""  # `teach categories` (the filter `category:NAME`)

    def haystack(self) -> str:
        return f"{self.id}\n{self.name}\n{self.author}".casefold()


ROWS_SQL = """
select i.id, i.name, i.author, a.kind, d.status as download, b.total_tokens, b.action,
       b.over_by, b.parts, b.tokenizer, c.decision, cat.category,
       {prompt_state} as prompt_state
from items i
left join downloads d on d.item_id = i.id
left join analysis a on a.item_id = i.id
left join budget b on b.item_id = i.id
left join curation c on c.item_id = i.id
left join item_categories cat on cat.item_id = i.id and cat.state = 'ok'
{where}
order by i.manifest_order, i.id
"""


_CATEGORY_TERM = re.compile(r'(?:^|\s)(?:category|cat):(?:"([^"]*)"|(\S*))', re.IGNORECASE)


def row_filter(text: str) -> Callable[[WidgetRow], bool]:
    """The Widgets filter: text matches id, name or author (as before); a term
    `category:NAME` (or `cat:NAME`, `category:"system monitor"`) keeps rows whose category
    starts with NAME, `category:none` rows without one."""
    wanted: list[str] = []

    def take(m: re.Match[str]) -> str:
        wanted.append((m.group(1) if m.group(1) is not None else m.group(2)).casefold())
        return " "

    needle = " ".join(_CATEGORY_TERM.sub(take, text).split()).casefold()

    def keep(row: WidgetRow) -> bool:
        category = row.category.casefold()
        for want in wanted:
            if not want:  # `category:` still being typed
                continue
            if want == "none":
                if category:
                    return False
            elif not category.startswith(want):
                return False
        return not needle or needle in row.haystack()

    return keep


def filters_by_category(text: str) -> bool:
    """Whether the filter has a `category:` term (a live category change can move a row)."""
    return _CATEGORY_TERM.search(text) is not None


def approximate_counts(rows: list[WidgetRow]) -> bool:
    """Whether any counted row was counted by a stand-in tokenizer (tiktoken), not the
    trainer's own: the Budget pane and the Tokens column then say "approximate"."""
    from graftwork.core.budget.tokens import counts_exact

    return any(r.tokens is not None and not counts_exact(r.tokenizer) for r in rows)


def _parts(raw: str | None) -> dict[str, int]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return {str(k): int(v) for k, v in data.items() if isinstance(v, int | float)}


def load_rows(db: Any, item_id: str | None = None, ids: list[str] | None = None) -> list[WidgetRow]:
    """Every row, or only ``item_id``'s or ``ids``' (a refresh must not read the whole catalog)."""
    state = current_state_expr("i.id")
    if item_id is not None:
        ids = [item_id]
    if ids is None:
        sql, params = ROWS_SQL.format(where="", prompt_state=state), []
    else:
        marks = ",".join("?" * len(ids))
        sql, params = (
            ROWS_SQL.format(where=f"where i.id in ({marks})", prompt_state=state),
            list(ids),
        )
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
            tokenizer=r["tokenizer"] or "",
            category=r["category"] or "",
        )
        for r in db.query(sql, params)
    ]


def first_item_ids(db: Any, source: str, limit: int) -> list[str]:
    """The first ``limit`` item ids of a source in list order (a large list's first screen)."""
    return [
        r[0]
        for r in db.execute(
            "SELECT id FROM items WHERE source = ? "
            "ORDER BY COALESCE(manifest_order, 1e18), id LIMIT ?",
            [source, limit],
        ).fetchall()
    ]


# What the Widgets rows are made of, summed up cheaply: counts (a row added or removed means a
# full reload), the newest ids of append-only tables, and for the tables stamped with a time
# the newest stamp and how many rows carry it.
TIMESTAMPED = (  # (mark name, table, item column, time column)
    ("items_at", "items", "id", "updated_at"),
    ("downloads_at", "downloads", "item_id", "downloaded_at"),
    ("analysis_at", "analysis", "item_id", "analyzed_at"),
    ("budget_at", "budget", "item_id", "computed_at"),
    ("categories_at", "item_categories", "item_id", "updated_at"),
)
MARKS_SQL = (
    "select (select count(*) from items) as items, (select count(*) from downloads) as downloads,"
    " (select count(*) from analysis) as analysis, (select count(*) from budget) as budget,"
    " (select max(id) from prompt_revisions) as prompt_id,"
    " (select max(id) from curation_history) as curation_id, "
    + ", ".join(
        f"(select max({col}) from {table}) as {mark}, "
        f"(select count(*) from {table} where {col} = (select max({col}) from {table})) as {mark}_n"
        for mark, table, _, col in TIMESTAMPED
    )
)
COUNTED = ("items", "downloads", "analysis", "budget")


def catalog_marks(db: Any) -> dict[str, Any]:
    return dict(next(iter(db.query(MARKS_SQL))))


def changed_items(db: Any, marks: dict[str, Any]) -> tuple[list[str] | None, dict[str, Any]]:
    """The ids whose Widgets row may have changed since ``marks`` (None: reload every row),
    and the new marks. A stamped table gives its rows newer than the mark; the rows stamped
    exactly at the mark only when their number changed (a row written in the same
    millisecond as the mark). So a catalog whose 5,000 budget rows share one stamp is not
    read whole on every change (it was: 0.3 s of work per refresh competing with typing).
    What this cannot see: a row rewritten within the millisecond of its own stamp."""
    new = catalog_marks(db)
    if any(new[k] != marks.get(k) for k in COUNTED):
        return None, new
    parts = [
        "select item_id from prompt_revisions where id > :prompt_id",
        "select item_id from curation_history where id > :curation_id",
    ]
    params: dict[str, Any] = {
        "prompt_id": marks.get("prompt_id") or 0,
        "curation_id": marks.get("curation_id") or 0,
    }
    for mark, table, key, col in TIMESTAMPED:
        old = marks.get(mark)
        if old is None:
            if new[mark] is not None:
                parts.append(f"select {key} from {table}")
            continue
        params[mark] = old
        op = ">=" if (new[mark] == old and new[f"{mark}_n"] != marks.get(f"{mark}_n")) else ">"
        parts.append(f"select {key} from {table} where {col} {op} :{mark}")
    sql = " union ".join(parts)
    return [r[0] for r in db.execute(sql, params).fetchall()], new


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
    category: str = ""  # `teach categories` (ok rows only), as the table's Category column

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
    cat = next(
        iter(
            db.query(
                "select category from item_categories where item_id = ? and state = 'ok'",
                [item_id],
            )
        ),
        {},
    )
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
        screenshot=find_screenshot(ws.root, ws.downloads_dir, item_id, dl.get("screenshot_path")),
        revisions=load_revisions(db, item_id),
        decision=cur.get("decision") or NONE,
        note=cur.get("note"),
        category=cat.get("category") or "",
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
    summary: dict[str, Any] = field(default_factory=dict)  # what the stage reported at its end


def _json_dict(raw: str | None) -> dict[str, Any]:
    try:
        data = json.loads(raw or "{}")
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


def _job_row(r: dict[str, Any]) -> JobRow:
    return JobRow(
        r["id"],
        r["kind"] or "",
        r["state"] or "",
        r["total"],
        r["done"] or 0,
        r["failed"] or 0,
        r["started_at"] or "",
        r["ended_at"],
        _json_dict(r["params"]),
        r["error"],
        _json_dict(r["summary"]),
    )


def load_jobs(db: Any, limit: int = 200) -> list[JobRow]:
    return [
        _job_row(r)
        for r in db.query("select * from jobs order by started_at desc limit ?", [limit])
    ]


def load_job(db: Any, job_id: str) -> JobRow | None:
    rows = list(db.query("select * from jobs where id = ?", [job_id]))
    return _job_row(rows[0]) if rows else None


def load_job_logs(db: Any, job_id: str, limit: int = 5000) -> list[dict[str, Any]]:
    return list(
        db.query(
            "select ts, level, item_id, message from job_logs where job_id = ? order by id limit ?",
            [job_id, limit],
        )
    )
