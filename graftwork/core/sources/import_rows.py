"""Records of import files turned into the catalog rows' values: read, checked, encoded
(JSON rendered and hashed once per record), each failure a ``(file:line, RecordError)``.

About half of an import's CPU is here, the other half is writing the rows (imported.py).
A reader process overlapping the two was tried: on a machine shared with other work it was
slower (the kernel shares CPU per session, so a second process gains no CPU, and the rows'
pickling costs a fifth more), so records are read in the importing process.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NamedTuple

from graftwork.core.base.jsonfast import dumps
from graftwork.core.ingest.record_formats import RecordError, detect, parse
from graftwork.core.ingest.records import read_records


class Row(NamedTuple):  # a tuple: cheap to make, 100,000s of times
    item_id: str
    where: str  # file:line
    fmt: str
    messages: str
    tools: str
    meta: str
    sha: str
    user: str
    name: str
    manifest: str


Rows = Iterator[tuple[str, "Row | Exception"]]

_STEM = re.compile(r"[^A-Za-z0-9_.-]+")


def fallback_id(path: Path, line: int) -> str:
    stem = _STEM.sub("_", path.stem).strip("._-") or "record"
    return f"{stem[:100]}-{line}"


def _name(user: str) -> str:
    first = user.strip().splitlines()[0] if user.strip() else ""
    return first[:80]


def make_row(parsed: Any, path_json: str, path: Path, line: int, fmt: str, where: str) -> Row:
    """The catalog rows' values for one parsed record (JSON rendered once, here)."""
    messages = dumps(parsed.messages)
    tools = dumps(parsed.tools) if parsed.tools else "[]"
    meta = dumps(parsed.meta) if parsed.meta else "{}"
    user = ""
    for msg in reversed(parsed.messages):
        if msg.get("role") == "user":
            user = msg.get("content") or ""
            break
    if not isinstance(user, str) or not user.strip():
        raise RecordError("the last user turn is empty (it becomes the item's prompt)")
    sha = hashlib.sha256(f"{messages}\0{tools}\0{meta}".encode()).hexdigest()
    return Row(
        parsed.own_id or fallback_id(path, line),
        where,
        fmt,
        messages,
        tools,
        meta,
        sha,
        user,
        _name(user),
        f'{{"file": {path_json}, "line": {line}, "format": "{fmt}"}}',
    )


def file_rows(files: list[Path], fmt: str, check: Callable[[], None]) -> Rows:
    """(file:line, its row or the RecordError) for every record of ``files``, in order;
    ``check`` runs before each record (a job's cancel check)."""
    for path in files:
        file_fmt = None if fmt == "auto" else fmt
        path_json = dumps(str(path))
        for rec in read_records(path):
            check()
            where = f"{path}:{rec.line}"
            try:
                if rec.error is not None:
                    raise RecordError(rec.error)
                looks = detect(rec.value)
                if file_fmt is None:
                    if looks is None:
                        raise RecordError(
                            "not a known record (alpaca has instruction/output, chat has "
                            "messages, sharegpt has conversations, apple is an array)"
                        )
                    file_fmt = looks
                elif looks is not None and looks != file_fmt:
                    raise RecordError(
                        f"looks like a {looks} record, but this file holds {file_fmt} "
                        "records (one format per file)"
                    )
                row = make_row(
                    parse(file_fmt, rec.value), path_json, path, rec.line, file_fmt, where
                )
                yield where, row
            except RecordError as exc:
                yield where, exc
