"""Schema of the readmes source (seed 001). Append new migrations at the end; never edit one
that has shipped.

Repositories live in `readme_repos` (they are not catalog items: the items of this recipe are
the README chunks, each with its own prompt, the instruction). Chunks live in `readme_chunks`
and each active chunk is also a row in `items` (source "readmes")."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("graftwork.readmes")


@migrations()
def m001_readmes(db: Database) -> None:
    # One row per repository source. `location` is what the user named (a path or a URL) and
    # identifies the row across re-collects; `id` is the short name chunks are keyed by.
    # status ok | failed; on failure `error` holds the one-line cause and the last good
    # snapshot (if any) is kept.
    db["readme_repos"].create(
        {
            "id": str,
            "location": str,
            "origin": str,  # local | git | github
            "repo_url": str,
            "owner": str,
            "repo": str,
            "checkout": str,  # workspace-relative clone folder (git), else ""
            "readme_path": str,
            "readme": str,
            "readme_bytes": int,
            "readme_sha256": str,
            "file_tree": str,  # JSON list of paths
            "file_count": int,
            "language": str,
            "project_type": str,
            "license": str,  # SPDX id or expression, "" when unknown
            "key_files": str,  # JSON [{path, content, tokens, truncated}]
            "description": str,
            "stars": int,
            "default_branch": str,
            "notes": str,  # JSON list of one-line remarks (submodules, symlinks left out, ...)
            "status": str,
            "error": str,
            "collected_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    db["readme_repos"].create_index(["location"], unique=True)
    # Conditional GET cache for the GitHub API: an unchanged answer (304) costs no rate limit.
    db["readme_http_cache"].create(
        {"url": str, "etag": str, "body": bytes, "fetched_at": str}, pk="url"
    )
    # One row per chunk of a README. item_id = "<repo id>#<first 10 hex of the chunk's sha256>"
    # so an unchanged chunk keeps its id (and its instruction) when the README is re-chunked.
    # active 0: the chunk is gone from the current README (kept for its prompt history).
    # instruct_state: "" | done | failed (with instruct_error, the teacher's last word).
    db["readme_chunks"].create(
        {
            "item_id": str,
            "repo_id": str,
            "idx": int,
            "heading": str,
            "text": str,
            "chars": int,
            "sha256": str,
            "active": int,
            "instruct_state": str,
            "instruct_error": str,
            "chunked_at": str,
        },
        pk="item_id",
    )
    db["readme_chunks"].create_index(["repo_id", "idx"])
    # Per repository: what the last chunk run did (kept, dropped as link-only, oversize).
    db["readme_chunk_stats"].create(
        {
            "repo_id": str,
            "chunks": int,
            "dropped_link_only": int,
            "oversize": int,
            "readme_sha256": str,
            "settings": str,  # the chunk settings used (JSON): a change re-chunks
            "chunked_at": str,
        },
        pk="repo_id",
    )
