"""The chunk stage: every collected README into chunks (readme_chunks), each chunk an item of
the catalog (source "readmes") with a template instruction as its first prompt revision.

A chunk's item id is "<repo id>#<10 hex of its text's sha256>": re-chunking an unchanged
README changes nothing, and a chunk that survives an edit of its README keeps its id and its
instruction. Chunks gone from the current README are marked inactive (their prompt history
stays). A repository whose README and chunk settings are unchanged is skipped."""

from __future__ import annotations

import hashlib
import json
from typing import Any

import sqlite_utils

from graftwork.core.base.catalog.db import now
from graftwork.core.base.jobs import Job, StageResult, stage_db
from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts import prompts
from graftwork.core.sources.readmes.chunking import Chunked, chunk_readme
from graftwork.core.sources.readmes.config import ChunkConfig, load_readmes_config
from graftwork.core.sources.readmes.templates import template_instruction

SOURCE = "readmes"
ORDER_STRIDE = 100_000  # manifest_order = repo rank * stride + chunk index


def chunk_item_id(repo_id: str, text: str) -> str:
    return f"{repo_id}#{hashlib.sha256(text.encode('utf-8')).hexdigest()[:10]}"


def settings_key(cfg: ChunkConfig) -> str:
    return json.dumps(cfg.model_dump(), sort_keys=True)


def _store(
    db: sqlite_utils.Database, repo: dict[str, Any], chunked: Chunked, settings: str
) -> tuple[int, int]:
    """Write one repository's chunks in one transaction: (new chunks, chunks now inactive)."""
    stamp = now()
    rid = repo["id"]
    known = {
        r[0]: r[1]
        for r in db.execute("SELECT item_id, active FROM readme_chunks WHERE repo_id = ?", [rid])
    }
    keep: set[str] = set()
    new = 0
    with prompts.write_txn(db):
        for chunk in chunked.chunks:
            item_id = chunk_item_id(rid, chunk.text)
            if item_id in keep:  # the same text twice in one README: once is enough
                continue
            keep.add(item_id)
            db.conn.execute(
                "INSERT INTO items (id, source, name, author, description, manifest, added_at, "
                "updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
                "name = excluded.name, manifest = excluded.manifest, updated_at = excluded.updated_at",
                [
                    item_id,
                    SOURCE,
                    f"{rid} · {chunk.heading or 'start'}",
                    repo.get("owner") or "",
                    repo.get("description") or "",
                    json.dumps({"repo_id": rid, "idx": chunk.idx, "heading": chunk.heading}),
                    stamp,
                    stamp,
                ],
            )
            db.conn.execute(
                "INSERT INTO readme_chunks (item_id, repo_id, idx, heading, text, chars, sha256, "
                "active, instruct_state, instruct_error, chunked_at) VALUES "
                "(?, ?, ?, ?, ?, ?, ?, 1, '', NULL, ?) ON CONFLICT(item_id) DO UPDATE SET "
                "idx = excluded.idx, heading = excluded.heading, active = 1, "
                "chunked_at = excluded.chunked_at",
                [
                    item_id,
                    rid,
                    chunk.idx,
                    chunk.heading,
                    chunk.text,
                    len(chunk.text),
                    hashlib.sha256(chunk.text.encode("utf-8")).hexdigest(),
                    stamp,
                ],
            )
            if item_id not in known:
                new += 1
            if prompts.current(db, item_id) is None:
                prompts.add_revision(
                    db,
                    item_id,
                    template_instruction(
                        chunk.heading, repo.get("project_type") or "", repo.get("language") or ""
                    ),
                    origin="template",
                    provenance={"template": "readmes.section"},
                )
        gone = [i for i, active in known.items() if active and i not in keep]
        db.conn.executemany(
            "UPDATE readme_chunks SET active = 0 WHERE item_id = ?", [(i,) for i in gone]
        )
        db.conn.execute(
            "INSERT OR REPLACE INTO readme_chunk_stats (repo_id, chunks, dropped_link_only, "
            "oversize, readme_sha256, settings, chunked_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                rid,
                len(keep),
                chunked.dropped_link_only,
                chunked.oversize,
                repo["readme_sha256"],
                settings,
                stamp,
            ],
        )
    return new, len(gone)


def _renumber(db: sqlite_utils.Database) -> None:
    """Catalog order: repositories by id, chunks in README order."""
    with db.conn:
        db.conn.execute(
            "UPDATE items SET manifest_order = (SELECT r.rank * ? + c.idx FROM readme_chunks c "
            "JOIN (SELECT id, ROW_NUMBER() OVER (ORDER BY id) AS rank FROM readme_repos) r "
            "ON r.id = c.repo_id WHERE c.item_id = items.id) WHERE source = ?",
            [ORDER_STRIDE, SOURCE],
        )


def chunk_stage(
    ws: Workspace,
    *,
    job: Job,
    repos: list[str] | None = None,
    force: bool = False,
    min_chars: int | None = None,
    max_chars: int | None = None,
    db: sqlite_utils.Database | None = None,
) -> StageResult:
    """Chunk every collected README (or only ``repos``)."""
    cfg = load_readmes_config(ws, {"chunk": {"min_chars": min_chars, "max_chars": max_chars}}).chunk
    settings = settings_key(cfg)
    db = stage_db(ws, job, db)
    rows = list(
        db.query(
            "SELECT r.*, s.readme_sha256 AS chunked_sha, s.settings AS chunked_settings "
            "FROM readme_repos r LEFT JOIN readme_chunk_stats s ON s.repo_id = r.id "
            "WHERE r.readme IS NOT NULL ORDER BY r.id"
        )
    )
    if repos:
        wanted = set(repos)
        unknown = sorted(wanted - {r["id"] for r in rows})
        if unknown:
            from graftwork.core.base.errors import ConfigError

            raise ConfigError(f"unknown repositories (not collected): {', '.join(unknown)}")
        rows = [r for r in rows if r["id"] in wanted]
    result = StageResult()
    job.set_total(len(rows))
    tally = {"chunks": 0, "new": 0, "inactive": 0, "dropped_link_only": 0, "oversize": 0}
    unchanged = 0
    for row in rows:
        job.check_cancelled()
        rid = row["id"]
        if (
            not force
            and row["chunked_sha"] == row["readme_sha256"]
            and row["chunked_settings"] == settings
        ):
            unchanged += 1
            result.skipped.append((rid, "README and settings unchanged since the last chunk run"))
            job.advance(item_id=rid, message="unchanged")
            continue
        chunked = chunk_readme(
            row["readme"],
            min_chars=cfg.min_chars,
            max_chars=cfg.max_chars,
            drop_link_only=cfg.drop_link_only,
        )
        tally["dropped_link_only"] += chunked.dropped_link_only
        if not chunked.chunks:
            cause = "README has no prose to learn from (only badges, images or links)"
            result.failed.append((rid, cause))
            job.item_failed(rid, cause)
            job.advance(item_id=rid)
            continue
        new, gone = _store(db, row, chunked, settings)
        tally["chunks"] += len(chunked.chunks)
        tally["new"] += new
        tally["inactive"] += gone
        tally["oversize"] += chunked.oversize
        result.ok += 1
        job.advance(item_id=rid, message=f"{len(chunked.chunks)} chunks")
    _renumber(db)
    result.summary = {"repos": result.ok, "unchanged": unchanged, **tally}
    return result
