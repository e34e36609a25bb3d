"""The seed's file workflow, both ways: ``prompts/{id}.prompt`` always holds the current
prompt, and a file edited by hand becomes a revision at the next stage that reads prompts.

The table ``prompt_files`` remembers which revision each file was last written from, the
sha256 of what was written and the file's stat right after (size, mtime_ns, inode), so a file
that differs from it was edited by hand, and the edit's base revision is known: a hand edit
made on an older revision than the current one whose text changed meanwhile is a conflict
(reported, never applied blindly). The stat lets the pickup skip, without reading it, every
file that still stats as written (100,000 files: one directory read and 100,000 lstat calls
instead of 100,000 reads). Files are written by
temp file + rename (never half-written) but not fsynced: the catalog is the record, the file
a copy that the next revision writes again.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from pathlib import Path
from typing import Any, NamedTuple

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


class FileRecord(NamedTuple):
    """A prompt_files row: the revision the file was written from, the sha256 of the bytes
    written, and their stat (size, mtime_ns, inode) when written or last checked (None:
    unknown; the file is then read to tell)."""

    rev: int
    sha256: str
    size: int | None
    mtime_ns: int | None
    ino: int | None

    def unchanged(self, st: os.stat_result) -> bool:
        return same_stat(st, self.size, self.mtime_ns, self.ino)


def same_stat(st: os.stat_result, size: int | None, mtime_ns: int | None, ino: int | None) -> bool:
    """The file (``st`` from lstat) still stats as recorded when graftwork wrote or checked
    it: not edited since. The one thing this cannot see is an in-place edit that keeps the
    size within the same timestamp tick as graftwork's write (milliseconds); editors that
    save by rename give the file a new inode. The inode also tells it is still our regular
    file (a link put in its place has its own)."""
    return size is not None and (st.st_size, st.st_mtime_ns, st.st_ino) == (size, mtime_ns, ino)


_RECORD_SQL = "SELECT item_id, rev, sha256, size, mtime_ns, ino FROM prompt_files"


def records(db: Any) -> dict[str, FileRecord]:
    if not db["prompt_files"].exists():
        return {}
    return {r[0]: FileRecord(*r[1:]) for r in db.execute(_RECORD_SQL).fetchall()}


def file_rows(db: Any) -> dict[str, tuple[Any, ...]]:
    """Every prompt_files row as a bare tuple (item_id, *FileRecord fields) by item id: the
    pickup compares 100,000 stats with these without building a record for each."""
    if not db["prompt_files"].exists():
        return {}
    return {r[0]: r for r in db.execute(_RECORD_SQL).fetchall()}


def records_for(db: Any, item_id: str) -> FileRecord | None:
    if not db["prompt_files"].exists():
        return None
    row = db.execute(f"{_RECORD_SQL} WHERE item_id = ?", [item_id]).fetchone()
    return FileRecord(*row[1:]) if row else None


def _stat_fields(st: os.stat_result | None) -> tuple[int | None, int | None, int | None]:
    """(size, mtime_ns, inode) to record; None for a file system whose timestamps are whole
    seconds (FAT, HFS+, some network mounts): an edit within the same second would keep the
    stat, so there such files are always read."""
    if st is None or st.st_mtime_ns % 1_000_000_000 == 0:
        return None, None, None
    return st.st_size, st.st_mtime_ns, st.st_ino


def _record(
    db: Any, item_id: str, rev: int, sha: str, st: os.stat_result | None, commit: bool = True
) -> None:
    db.execute(
        "INSERT INTO prompt_files (item_id, rev, sha256, written_at, size, mtime_ns, ino) "
        "VALUES (?, ?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(item_id) DO UPDATE SET rev = excluded.rev, sha256 = excluded.sha256, "
        "written_at = excluded.written_at, size = excluded.size, "
        "mtime_ns = excluded.mtime_ns, ino = excluded.ino",
        [item_id, rev, sha, now(), *_stat_fields(st)],
    )
    if commit:
        db.conn.commit()


def record_checked(db: Any, item_id: str, st: os.stat_result) -> None:
    """A file read and found to hold exactly what graftwork wrote although its stat changed
    (touched, copied, restored): remember the new stat so the next pickup skips it."""
    db.execute(
        "UPDATE prompt_files SET size = ?, mtime_ns = ?, ino = ? WHERE item_id = ?",
        [*_stat_fields(st), item_id],
    )


def prompt_file_entries(folder: Path) -> dict[str, os.DirEntry[str]]:
    """The ``*.prompt`` entries of ``folder`` by name: one directory read, no Path objects,
    no stat until asked (100,000 files in a fraction of a second)."""
    try:
        with os.scandir(folder) as entries:
            return {e.name: e for e in entries if e.name.endswith(SUFFIX)}
    except (FileNotFoundError, NotADirectoryError):
        return {}


def prompt_file_names(folder: Path) -> list[str]:
    """The names of the ``*.prompt`` files in ``folder``, sorted."""
    return sorted(prompt_file_entries(folder))


def read_with_stat(path: Path) -> tuple[bytes, os.stat_result]:
    """The file's bytes and its stat taken *before* reading them: an edit after the stat
    changes the file's stat from the one recorded, so it is never taken for what was read."""
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        return fh.read(), st


def _write(path: Path, data: bytes) -> os.stat_result:
    """Write by temp file + rename; returns the stat of what was written (from our own file
    before the rename, so an edit after the rename cannot be recorded as ours)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # atomic_writer's temp name (with our pid), so a killed writer's file is swept later
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            st = os.fstat(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return st


class MirrorProblem(NamedTuple):
    """Why prompts/{id}.prompt does not hold a revision: ``unwritable`` (the folder or the
    file cannot be written or read: an error of the run, said with the file and the cause),
    else a hand edit left in place (the next pickup applies or reports it)."""

    item_id: str
    message: str
    unwritable: bool


def _unwritable(item_id: str, rev: Any, what: str, exc: OSError) -> MirrorProblem:
    cause = exc.strerror or str(exc) or type(exc).__name__
    return MirrorProblem(
        item_id,
        f"prompts/{item_id}{SUFFIX}: cannot {what} it ({cause}); r{rev} is saved in the "
        "catalog, and the file follows at the next stage that reads prompts (budget, build) "
        "once it can be written",
        True,
    )


def mirror_missing(
    ws: Workspace,
    db: Any,
    names: set[str] | None = None,
    recorded: dict[str, int] | None = None,
) -> list[MirrorProblem]:
    """Write the files that lag the catalog (a kill between a revision's commit and its
    file, or a prompts/ folder that could not be written: missing, or from an older
    revision) and sweep killed writers' temp files. Hand edits are left alone (mirror_one).
    ``names``, ``recorded``: the folder's *.prompt names and prompt_files' item ids (with
    their revisions), when the caller has just read them.

    Returns what could not be written: the first unwritable file ends the pass (the cause is
    the folder or the disk; the rest would fail alike), said once with how many lag."""
    sweep_temp_files(ws.prompts_dir)  # best effort (a read-only folder keeps them)
    if not db["prompt_files"].exists():
        return []
    if recorded is None:
        recorded = dict(db.execute("SELECT item_id, rev FROM prompt_files").fetchall())
    on_disk = names if names is not None else set(prompt_file_names(ws.prompts_dir))
    # Current revisions newer than their file's (or never written), found by SQL, and files
    # that were written but are gone; texts are read only for the files that need writing.
    newer = current_sql("p.item_id") + (
        " LEFT JOIN prompt_files f ON f.item_id = p.item_id WHERE f.rev IS NULL OR f.rev < p.rev"
    )
    lagging = [r[0] for r in db.execute(newer).fetchall()]
    lagging += [iid for iid in recorded if f"{iid}{SUFFIX}" not in on_disk]
    behind = [iid for iid in dict.fromkeys(lagging) if safe_name(iid)]
    for start in range(0, len(behind), 500):  # one commit per 500 files, not one each
        part = behind[start : start + 500]
        marks = ",".join("?" * len(part))
        sql = current_sql("p.item_id, p.rev, p.text") + f" WHERE p.item_id IN ({marks})"
        for iid, rev, text in db.execute(sql, part).fetchall():
            problem = mirror_one(ws, db, iid, {"rev": rev, "text": text}, commit=False)
            if problem is not None and problem.unwritable:
                db.conn.commit()
                left = len(behind) - behind.index(iid)
                more = f" ({left} prompt files lag the catalog)" if left > 1 else ""
                return [problem._replace(message=problem.message + more)]
        db.conn.commit()
    return []


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
) -> MirrorProblem | None:
    """Write ``prompts/{item_id}.prompt`` for revision ``rev`` and record it. A file holding
    a hand edit that was not picked up yet is left alone (``force`` overwrites it): returns
    why the file does not hold ``rev``, or None."""
    if not safe_name(item_id) or not db["prompt_files"].exists():
        return None
    path = ws.prompts_dir / f"{item_id}{SUFFIX}"
    data = file_content(rev["text"])
    st: os.stat_result | None = None
    try:
        on_disk, st = read_with_stat(path)
    except FileNotFoundError:
        on_disk = None
    except OSError as exc:
        return _unwritable(item_id, rev["rev"], "read", exc)
    if on_disk is not None and on_disk != data and not force:
        record = records_for(db, item_id)
        ours = record is not None and record.sha256 == _sha(on_disk)
        stale_copy = record is None and _stripped(on_disk) in _known_texts(db, item_id)
        if not (ours or stale_copy):
            return MirrorProblem(
                item_id,
                f"prompts/{item_id}{SUFFIX} has a hand edit not picked up yet; left as is",
                False,
            )
    try:
        if on_disk != data:
            st = _write(path, data)
    except OSError as exc:
        return _unwritable(item_id, rev["rev"], "write", exc)
    _record(db, item_id, int(rev["rev"]), _sha(data), st, commit)
    return None


def written_by_us(path: Path, record: FileRecord | None) -> bool:
    """The file holds exactly what graftwork last wrote to it (no hand edit): told by its
    stat when that is unchanged, else by reading it."""
    if record is None:
        return False
    try:
        if record.unchanged(os.lstat(path)):
            return True
        return _sha(path.read_bytes()) == record.sha256
    except OSError:
        return False


def _stripped(data: bytes) -> str:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return ""
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").strip()
