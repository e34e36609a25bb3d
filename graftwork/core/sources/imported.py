"""The import recipe's source: records brought from files (`graftwork import FILE_OR_DIR`).

Each record becomes an item (source `import`) plus an example revision in `import_examples`
(messages/tools/meta JSON and their sha256). Its user turn also becomes the item's prompt
revision (origin `import`), so the Prompt pane, prompt history and curation work unchanged;
the example's user turn is always the item's current prompt.

Item ids: the record's own id (meta.id, or a chat/ShareGPT record's top-level "id") when it is
a usable id (letters, digits, `_`, `.`, `-`; at most 128), else `<file stem>-<line>` (the line
the record starts on). Re-importing an unchanged record writes nothing; a changed one becomes
a new example revision, and a new prompt revision only when its user turn changed (so a prompt
edited in graftwork survives a re-import of a record whose user turn did not change).

Writes go in batches, each one transaction: a kill leaves whole batches only.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.gcpause import paused_gc
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.jsonfast import dumps
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import Example, sha256_text
from graftwork.core.ingest.record_formats import FORMATS, RecordError, parse
from graftwork.core.sources.base import Candidate
from graftwork.core.sources.import_rows import Row, file_rows, make_row

SOURCE = "import"
BATCH = 5000
SUFFIXES = (".jsonl", ".json")
_SQL_CHUNK = 500


class ImportError_(GraftworkError):
    """Nothing to import (no such file, no JSON/JSONL files, wrong recipe): exit code 2."""

    exit_code = 2


# ---- the provider ----------------------------------------------------------------------------
_CANDIDATES_SQL = """
SELECT i.id, e.id, e.sha256 FROM items i
JOIN import_examples e ON e.item_id = i.id
 AND e.rev = (SELECT MAX(rev) FROM import_examples x WHERE x.item_id = i.id)
WHERE i.source = ?
ORDER BY COALESCE(i.manifest_order, 1e18), i.id
"""


def _example(item_id: str, messages: str, tools: str, meta: str, prompt: str) -> Example:
    loads = json.loads
    ex = Example(
        item_id,
        loads(messages),
        loads(tools) if tools and tools != "[]" else [],
        loads(meta) if meta and meta != "{}" else {},
    )
    return ex.with_user(prompt) if prompt != ex.user else ex


class ImportedProvider:
    """Imported records as examples: the newest revision, its user turn the current prompt."""

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws

    def candidates(self, db: Any) -> tuple[list[Candidate], list[tuple[str, str]]]:
        from graftwork.core.dataset.candidates import current_prompts, prompt_skip_reason

        prompts = current_prompts(db)
        out: list[Candidate] = []
        skipped: list[tuple[str, str]] = []
        for item_id, rev_id, sha in db.execute(_CANDIDATES_SQL, [SOURCE]).fetchall():
            reason = prompt_skip_reason(prompts.get(item_id))
            if reason:
                skipped.append((item_id, reason))
            else:
                out.append(Candidate(item_id, prompts[item_id][0], sha, str(rev_id)))
        return out, skipped

    def examples(
        self, db: Any, cands: Sequence[Candidate]
    ) -> tuple[list[Example], list[tuple[str, str]]]:
        """Every candidate's example, read in chunks of one query each."""
        rows: dict[str, tuple[str, str, str]] = {}
        refs = [c.ref for c in cands]
        for start in range(0, len(refs), _SQL_CHUNK):
            chunk = refs[start : start + _SQL_CHUNK]
            marks = ",".join("?" * len(chunk))
            for rid, messages, tools, meta in db.execute(
                f"SELECT id, messages, tools, meta FROM import_examples WHERE id IN ({marks})",
                chunk,
            ):
                rows[str(rid)] = (messages, tools, meta)
        examples: list[Example] = []
        failed: list[tuple[str, str]] = []
        for c in cands:
            row = rows.get(c.ref)
            if row is None:
                failed.append((c.item_id, "its imported example is missing"))
                continue
            try:
                examples.append(_example(c.item_id, *row, c.prompt))
            except ValueError as exc:
                failed.append((c.item_id, f"stored example is not JSON ({exc})"))
        return examples, failed

    def example(self, db: Any, cand: Candidate) -> Example:
        examples, failed = self.examples(db, [cand])
        if failed:
            raise ValueError(failed[0][1])
        return examples[0]

    def example_for(self, db: Any, item_id: str, prompt: str) -> Example:
        row = db.execute(
            "SELECT messages, tools, meta FROM import_examples WHERE item_id = ?"
            " ORDER BY rev DESC LIMIT 1",
            [item_id],
        ).fetchone()
        if row is None:
            raise ValueError("no imported example (run `graftwork import FILE`)")
        return _example(item_id, *row, prompt)

    def read_ident(self, cand: Candidate, example: Example) -> str:
        return cand.ident or example.sha256()


def provider(ws: Workspace) -> ImportedProvider:
    return ImportedProvider(ws)


# ---- the import stage ----------------------------------------------------------------------
def import_files(paths: Iterable[Path]) -> list[Path]:
    """The files an import reads: each FILE as given, each DIR's *.jsonl/*.json (sorted,
    hidden names skipped). Raises ImportError_ when there is nothing to read."""
    files: list[Path] = []
    for path in paths:
        path = Path(path)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUFFIXES
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                raise ImportError_(f"{path}: no .jsonl or .json files in this folder")
            files.extend(found)
        elif path.is_file():
            files.append(path)
        else:
            raise ImportError_(f"{path}: no such file or folder")
    return files


@dataclass
class _State:
    """What the catalog holds before a batch is written."""

    current: dict[str, tuple[str, int, str]]  # item id -> (source, example rev, sha256)
    next_order: int
    seen: dict[str, str] = field(default_factory=dict)  # item id -> file:line this run


def _load_state(db: Any) -> _State:
    current: dict[str, tuple[str, int, str]] = {}
    for item_id, source, rev, sha in db.execute(
        "SELECT i.id, i.source, e.rev, e.sha256 FROM items i LEFT JOIN import_examples e"
        " ON e.item_id = i.id AND e.rev ="
        " (SELECT MAX(rev) FROM import_examples x WHERE x.item_id = i.id)"
    ):
        current[item_id] = (source or "", rev or 0, sha or "")
    top = db.execute("SELECT COALESCE(MAX(manifest_order), 0) FROM items").fetchone()[0]
    return _State(current, int(top) + 1)


def import_paths(
    ws: Workspace, paths: Sequence[Path], *, fmt: str = "auto", job: Job
) -> StageResult:
    """Import every record of ``paths`` (files or folders). Bad records are failures named
    file:line with their cause; the good ones are imported. summary: new, changed, unchanged."""

    if fmt != "auto" and fmt not in FORMATS:
        raise ImportError_(f"--format must be auto or one of {', '.join(FORMATS)}, got {fmt!r}")
    files = import_files(paths)
    result = _import_rows(ws, file_rows(files, fmt, job.check_cancelled), job)
    result.summary["files"] = len(files)
    return result


def import_records(
    ws: Workspace, records: Iterable[tuple[Path, int, Any]], *, fmt: str, job: Job
) -> StageResult:
    """Import records made in memory (a generator's output), each named by the file and line
    it was written to; otherwise as `import_paths` (same batches, ids, revisions)."""

    def rows() -> Iterator[tuple[str, Row | Exception]]:
        for path, line, value in records:
            where = f"{path}:{line}"
            try:
                yield where, make_row(parse(fmt, value), dumps(str(path)), path, line, fmt, where)
            except RecordError as exc:
                yield where, exc

    return _import_rows(ws, rows(), job)


def _import_rows(
    ws: Workspace, rows: Iterable[tuple[str, Row | Exception]], job: Job
) -> StageResult:
    """Write ``rows`` in batches (one transaction each); failures named by file:line."""
    result = StageResult()
    counts = {"new": 0, "changed": 0, "unchanged": 0}
    with ws.catalog() as db, paused_gc():
        state = _load_state(db)
        batch: list[Row] = []
        for where, row in rows:
            try:
                if isinstance(row, Exception):
                    raise row
                _check_id(state, row)
            except RecordError as exc:
                result.failed.append((where, str(exc)))
                job.item_failed(where, str(exc))
                continue
            batch.append(row)
            if len(batch) >= BATCH:
                _write(db, state, batch, counts, job)
                batch = []
        if batch:
            _write(db, state, batch, counts, job)
    result.ok = sum(counts.values())
    result.summary = {**counts, "failed": len(result.failed)}
    return result


def _check_id(state: _State, row: Row) -> None:

    first = state.seen.get(row.item_id)
    if first is not None:
        raise RecordError(f"duplicate id {row.item_id!r} (first at {first})")
    source = state.current.get(row.item_id, (SOURCE,))[0]
    if source != SOURCE:
        raise RecordError(f"id {row.item_id!r} is already a {source} item in this catalog")
    state.seen[row.item_id] = row.where


def _write(db: Any, state: _State, batch: list[Row], counts: dict[str, int], job: Job) -> None:
    """One transaction for the whole batch."""
    from graftwork.core.base.catalog.txn import write_txn

    stamp = now()
    new_items, moved, examples, prompts = [], [], [], []
    planned: dict[str, tuple[str, int, str]] = {}
    conn = db.conn
    with write_txn(db):
        for row in batch:
            _source, rev, sha = state.current.get(row.item_id, (SOURCE, 0, ""))
            if rev and sha == row.sha:
                counts["unchanged"] += 1
                continue
            provenance = f'{{"import": {dumps(row.where)}}}'
            prompt_rev = 1
            if rev == 0:
                counts["new"] += 1
                new_items.append(
                    (row.item_id, SOURCE, row.name, "", "", row.manifest, state.next_order, stamp)
                )
                state.next_order += 1
            else:
                counts["changed"] += 1
                moved.append((row.manifest, row.name, stamp, row.item_id))
                prompt_rev = _next_prompt_rev(conn, row, rev)
            examples.append(
                (
                    row.item_id,
                    rev + 1,
                    row.fmt,
                    row.messages,
                    row.tools,
                    row.meta,
                    row.sha,
                    row.where,
                    stamp,
                )
            )
            if prompt_rev:
                prompts.append(
                    (
                        row.item_id,
                        prompt_rev,
                        row.user,
                        sha256_text(row.user),
                        "accepted",
                        "import",
                        provenance,
                        stamp,
                    )
                )
            planned[row.item_id] = (SOURCE, rev + 1, row.sha)
        conn.executemany(
            "INSERT INTO items (id, source, name, author, description, manifest, manifest_order,"
            " added_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
            [(*r, r[-1]) for r in new_items],
        )
        conn.executemany(
            "UPDATE items SET manifest = ?, name = ?, updated_at = ? WHERE id = ?", moved
        )
        conn.executemany(
            "INSERT INTO import_examples (item_id, rev, format, messages, tools, meta, sha256,"
            " origin, created_at) VALUES (?,?,?,?,?,?,?,?,?)",
            examples,
        )
        conn.executemany(
            "INSERT INTO prompt_revisions (item_id, rev, text, sha256, state, origin, provenance,"
            " created_at) VALUES (?,?,?,?,?,?,?,?)",
            prompts,
        )
    state.current.update(planned)  # only once the batch is committed
    job.advance(len(batch))


def _next_prompt_rev(conn: Any, row: Row, example_rev: int) -> int:
    """The prompt rev to append for a changed record, or 0 when its user turn is the same as
    the previous revision's (a prompt edited in graftwork then stays current)."""
    prev = conn.execute(
        "SELECT messages FROM import_examples WHERE item_id = ? AND rev = ?",
        [row.item_id, example_rev],
    ).fetchone()
    if prev is not None and Example(row.item_id, json.loads(prev[0])).user == row.user:
        return 0
    top = conn.execute(
        "SELECT COALESCE(MAX(rev), 0) FROM prompt_revisions WHERE item_id = ?", [row.item_id]
    ).fetchone()[0]
    return int(top) + 1
