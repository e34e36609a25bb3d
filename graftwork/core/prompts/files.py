"""The seed's file workflow, both ways: ``prompts/{id}.prompt`` always holds the current
prompt, and a file edited by hand becomes a revision at the next stage that reads prompts.

The table ``prompt_files`` remembers which revision each file was last written from and the
sha256 of what was written, so a file that differs from it was edited by hand, and the edit's
base revision is known: a hand edit made on an older revision than the current one whose text
changed meanwhile is a conflict (reported, never applied blindly). Files are written by
temp file + rename (never half-written) but not fsynced: the catalog is the record, the file
a copy that the next revision writes again.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any

from graftwork.core.base.atomic import sweep_temp_files
from graftwork.core.base.catalog.db import now
from graftwork.core.base.workspace import CONFIG_NAME, DB_NAME, Workspace
from graftwork.core.prompts.current import current_sql

SUFFIX = ".prompt"


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def file_content(text: str) -> bytes:
    return (text + "\n").encode("utf-8")


def safe_name(item_id: str) -> bool:
    return (
        bool(item_id) and "/" not in item_id and "\\" not in item_id and item_id not in (".", "..")
    )


def workspace_of(db: Any) -> Workspace | None:
    """The workspace whose catalog ``db`` is (None for a catalog outside a workspace)."""
    try:
        row = db.conn.execute("PRAGMA database_list").fetchone()
    except Exception:
        return None
    path = Path(row[2]) if row and row[2] else None
    if path is None or path.name != DB_NAME or not (path.parent / CONFIG_NAME).is_file():
        return None
    return Workspace(path.parent)


def records(db: Any) -> dict[str, dict[str, Any]]:
    if not db["prompt_files"].exists():
        return {}
    return {r["item_id"]: r for r in db.query("SELECT * FROM prompt_files")}


def _record(db: Any, item_id: str, rev: int, sha: str, commit: bool = True) -> None:
    db.execute(
        "INSERT INTO prompt_files (item_id, rev, sha256, written_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(item_id) DO UPDATE SET rev = excluded.rev, sha256 = excluded.sha256, "
        "written_at = excluded.written_at",
        [item_id, rev, sha, now()],
    )
    if commit:
        db.conn.commit()


def prompt_file_names(folder: Path) -> list[str]:
    """The names of the ``*.prompt`` files in ``folder``, sorted (one directory read, no
    stat per file and no Path objects: 100,000 files in a fraction of a second)."""
    try:
        with os.scandir(folder) as entries:
            return sorted(e.name for e in entries if e.name.endswith(SUFFIX))
    except (FileNotFoundError, NotADirectoryError):
        return []


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    # atomic_writer's temp name (with our pid), so a killed writer's file is swept later
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def mirror_missing(ws: Workspace, db: Any) -> int:
    """Write the files a kill left behind the catalog (killed between a revision's commit
    and its file: missing, or from an older revision) and sweep killed writers' temp files.
    Hand edits are left alone (mirror_one). How many files were written."""
    sweep_temp_files(ws.prompts_dir)
    if not db["prompt_files"].exists():
        return 0
    recorded = dict(db.execute("SELECT item_id, rev FROM prompt_files").fetchall())
    on_disk = set(prompt_file_names(ws.prompts_dir))
    # (id, rev) of every current revision, without reading texts or decoding provenance:
    # the texts are read only for the files that need writing.
    behind = [
        iid
        for iid, rev in db.execute(current_sql("p.item_id, p.rev")).fetchall()
        if recorded.get(iid, 0) < rev or f"{iid}{SUFFIX}" not in on_disk
    ]
    written = 0
    for start in range(0, len(behind), 500):  # one commit per 500 files, not one each
        part = [iid for iid in behind[start : start + 500] if safe_name(iid)]
        marks = ",".join("?" * len(part))
        sql = current_sql("p.item_id, p.rev, p.text") + f" WHERE p.item_id IN ({marks})"
        for iid, rev, text in db.execute(sql, part).fetchall() if part else []:
            if mirror_one(ws, db, iid, {"rev": rev, "text": text}, commit=False) is None:
                written += 1
        db.conn.commit()
    return written


def _known_texts(db: Any, item_id: str) -> set[str]:
    return {
        r["text"]
        for r in db.query("SELECT text FROM prompt_revisions WHERE item_id = ?", [item_id])
    }


def mirror_one(
    ws: Workspace,
    db: Any,
    item_id: str,
    rev: dict[str, Any],
    force: bool = False,
    commit: bool = True,
) -> str | None:
    """Write ``prompts/{item_id}.prompt`` for revision ``rev``. A file holding a hand edit
    that was not picked up yet is left alone (``force`` overwrites it): returns why."""
    if not safe_name(item_id) or not db["prompt_files"].exists():
        return None
    path = ws.prompts_dir / f"{item_id}{SUFFIX}"
    data = file_content(rev["text"])
    try:
        on_disk: bytes | None = path.read_bytes()
    except FileNotFoundError:
        on_disk = None
    except OSError as exc:
        return f"{path}: cannot read ({exc})"
    if on_disk is not None and on_disk != data and not force:
        record = records_for(db, item_id)
        ours = record is not None and record["sha256"] == _sha(on_disk)
        stale_copy = record is None and _stripped(on_disk) in _known_texts(db, item_id)
        if not (ours or stale_copy):
            return f"prompts/{item_id}{SUFFIX} has a hand edit not picked up yet; left as is"
    try:
        if on_disk != data:
            _write(path, data)
    except OSError as exc:
        return f"{path}: cannot write ({exc})"
    _record(db, item_id, int(rev["rev"]), _sha(data), commit)
    return None


def written_by_us(path: Path, record: dict[str, Any] | None) -> bool:
    """The file holds exactly what graftwork last wrote to it (no hand edit)."""
    if record is None:
        return False
    try:
        return _sha(path.read_bytes()) == record["sha256"]
    except OSError:
        return False


def records_for(db: Any, item_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM prompt_files WHERE item_id = ?", [item_id]))
    return rows[0] if rows else None


def _stripped(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").strip()
