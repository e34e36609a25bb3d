"""Hand edits of prompts/{id}.prompt picked up as revisions (the seed's file workflow).

Kept apart from files.py (which prompts.py uses to mirror every revision) so neither module
imports the other."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts.files import (
    SUFFIX,
    FileRecord,
    _known_texts,
    _sha,
    file_rows,
    mirror_missing,
    mirror_one,
    prompt_file_entries,
    read_with_stat,
    record_checked,
    same_stat,
)
from graftwork.core.prompts.prompts import (
    RevisionConflict,
    add_revision,
    current,
    read_prompt_file,
)


@dataclass
class Pickup:
    """What one pass over prompts/ found: applied hand edits, conflicts and problems (files
    that cannot be read, prompts/ that cannot be written); ``read``: files read (the others
    still stat as graftwork wrote them)."""

    applied: list[tuple[str, int]] = field(default_factory=list)  # (item_id, new rev)
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (item_id, message)
    failed: list[tuple[str, str]] = field(default_factory=list)
    read: int = 0

    def lines(self) -> list[tuple[str, str, str]]:
        """(level, item_id, message) for a job log or a console."""
        out = [
            ("info", i, f"prompts/{i}{SUFFIX}: hand edit picked up as r{r}")
            for i, r in self.applied
        ]
        out += [("warning", i, m) for i, m in self.conflicts]
        out += [("warning", i, m) for i, m in self.failed]
        return out


def pickup(ws: Workspace, db: Any) -> Pickup:
    """Turn hand edits of ``prompts/*.prompt`` into revisions (origin import). An edit whose
    base revision is older than the current one, whose text changed since, is a conflict.

    Only files whose stat (size, mtime_ns, inode) differs from the one recorded when
    graftwork wrote them are read: an edit changes it, so nothing edited is skipped."""
    result = Pickup()
    folder = ws.prompts_dir
    if not folder.is_dir():
        return result
    known = {r[0] for r in db.execute("SELECT id FROM items").fetchall()}
    rows = file_rows(db)  # item id -> (item_id, rev, sha256, size, mtime_ns, inode)
    entries = prompt_file_entries(folder)
    checked = False
    for name in sorted(entries):
        iid = name[: -len(SUFFIX)]
        if iid not in known:
            continue  # a file for an item this catalog does not have is not ours to judge
        row = rows.get(iid)
        entry = entries[name]
        try:
            if row is not None and same_stat(entry.stat(follow_symlinks=False), *row[3:]):
                continue  # stats as graftwork wrote it: untouched
            path = Path(entry.path)  # only now: a Path per file costs more than its stat
            if not entry.is_file(follow_symlinks=False):
                if entry.is_dir(follow_symlinks=False):
                    continue  # not a prompt file
                read_prompt_file(path)  # a link, a pipe: says why, never opens it
            result.read += 1
            data, st = read_with_stat(path)
        except ValueError as exc:
            result.failed.append((iid, f"prompts/{iid}{SUFFIX}: {exc}"))
            continue
        except FileNotFoundError:
            continue  # gone since the listing
        except OSError as exc:
            cause = exc.strerror or exc
            result.failed.append((iid, f"prompts/{name}: cannot read it ({cause})"))
            continue
        record = FileRecord(*row[1:]) if row is not None else None
        if record is not None and record.sha256 == _sha(data):
            record_checked(db, iid, st)  # touched, not edited: skip it next time
            checked = True
            continue
        try:
            text = read_prompt_file(path)
        except ValueError as exc:
            result.failed.append((iid, f"prompts/{iid}{SUFFIX}: {exc}"))
            continue
        cur = current(db, iid)
        if cur is not None and cur["text"] == text:
            _rewrite(ws, db, iid, cur, result)  # same text (maybe other line endings)
            continue
        if not text:
            result.failed.append((iid, f"prompts/{iid}{SUFFIX} is empty; not applied"))
            continue
        if record is None and text in _known_texts(db, iid):
            if cur is not None:
                _rewrite(ws, db, iid, cur, result)  # an old copy, not an edit
            continue
        base = record.rev if record is not None else (int(cur["rev"]) if cur else 0)
        try:
            rev = add_revision(
                db,
                iid,
                text,
                origin="import",
                base_rev=base,
                note=f"hand edit of prompts/{iid}{SUFFIX}",
                provenance={"file": f"prompts/{iid}{SUFFIX}", "base_rev": base},
            )
        except RevisionConflict as exc:
            result.conflicts.append((iid, exc.cause))
            continue
        result.applied.append((iid, int(rev["rev"])))
    if checked:
        db.conn.commit()
    # files a killed writer or an unwritable folder left behind the catalog
    revs = {iid: row[1] for iid, row in rows.items()}
    result.failed += [(p.item_id, p.message) for p in mirror_missing(ws, db, set(entries), revs)]
    return result


def _rewrite(ws: Workspace, db: Any, item_id: str, rev: dict[str, Any], result: Pickup) -> None:
    problem = mirror_one(ws, db, item_id, rev, force=True)
    if problem is not None:
        result.failed.append((item_id, problem.message))


def log_pickup(job: Any, found: Pickup) -> None:
    for level, item_id, message in found.lines():
        job.log(message, level=level, item_id=item_id)
