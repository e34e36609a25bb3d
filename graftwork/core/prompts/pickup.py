"""Hand edits of prompts/{id}.prompt picked up as revisions (the seed's file workflow).

Kept apart from files.py (which prompts.py uses to mirror every revision) so neither module
imports the other."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts.files import (
    SUFFIX,
    _known_texts,
    _sha,
    mirror_missing,
    mirror_one,
    prompt_file_names,
    records,
)
from graftwork.core.prompts.prompts import (
    RevisionConflict,
    add_revision,
    current,
    read_prompt_file,
)


@dataclass
class Pickup:
    """What one pass over prompts/ found: applied hand edits, conflicts and unreadable files."""

    applied: list[tuple[str, int]] = field(default_factory=list)  # (item_id, new rev)
    conflicts: list[tuple[str, str]] = field(default_factory=list)  # (item_id, message)
    failed: list[tuple[str, str]] = field(default_factory=list)

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
    base revision is older than the current one, whose text changed since, is a conflict."""
    result = Pickup()
    folder = ws.prompts_dir
    if not folder.is_dir():
        return result
    known = {r["id"] for r in db.query("SELECT id FROM items")}
    recs = records(db)
    for name in prompt_file_names(folder):
        iid = name[: -len(SUFFIX)]
        if iid not in known:
            continue  # a file for an item this catalog does not have is not ours to judge
        path = folder / name
        try:
            data = path.read_bytes()
        except IsADirectoryError:
            continue  # not a prompt file
        except OSError as exc:
            result.failed.append((iid, f"{path}: cannot read ({exc})"))
            continue
        record = recs.get(iid)
        if record is not None and record["sha256"] == _sha(data):
            continue  # what we wrote, untouched
        try:
            text = read_prompt_file(path)
        except ValueError as exc:
            result.failed.append((iid, f"prompts/{iid}{SUFFIX}: {exc}"))
            continue
        cur = current(db, iid)
        if cur is not None and cur["text"] == text:
            mirror_one(ws, db, iid, cur, force=True)  # same text (maybe other line endings)
            continue
        if not text:
            result.failed.append((iid, f"prompts/{iid}{SUFFIX} is empty; not applied"))
            continue
        if record is None and text in _known_texts(db, iid):
            if cur is not None:
                mirror_one(ws, db, iid, cur, force=True)  # an old copy, not an edit
            continue
        base = int(record["rev"]) if record is not None else (int(cur["rev"]) if cur else 0)
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
    mirror_missing(ws, db)  # files a killed writer left behind the catalog
    return result


def log_pickup(job: Any, found: Pickup) -> None:
    for level, item_id, message in found.lines():
        job.log(message, level=level, item_id=item_id)
