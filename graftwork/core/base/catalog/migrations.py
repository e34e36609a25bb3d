"""Core schema. Append new migrations at the end; never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("graftwork.core")


@migrations()
def m001_core(db: Database) -> None:
    # One row per source item (a widget is one kind of item). `manifest` keeps every
    # field of the source entry as JSON so OS_* columns can always be rebuilt.
    db["items"].create(
        {
            "id": str,
            "source": str,
            "name": str,
            "author": str,
            "description": str,
            "manifest": str,
            "manifest_order": int,
            "added_at": str,
            "updated_at": str,
        },
        pk="id",
    )
    db["downloads"].create(
        {
            "item_id": str,
            "url": str,
            "status": str,
            "archive_sha256": str,
            "archive_bytes": int,
            "extracted_bytes": int,
            "file_count": int,
            "path": str,
            "screenshot_path": str,
            "error": str,
            "attempts": int,
            "downloaded_at": str,
        },
        pk="item_id",
        foreign_keys=[("item_id", "items", "id")],
    )
    db["analysis"].create(
        {
            "item_id": str,
            "kind": str,
            "is_jsx": int,
            "is_coffee": int,
            "has_js": int,
            "folder": str,
            "files": str,
            "file_count": int,
            "total_bytes": int,
            "code_bytes": int,
            "code_sha256": str,
            "refresh_frequency": str,
            "command": str,
            "styling": str,
            "imports": str,
            "facts": str,
            "error": str,
            "analyzed_at": str,
        },
        pk="item_id",
        foreign_keys=[("item_id", "items", "id")],
    )
    # Every prompt change is a new revision; nothing is overwritten. The newest
    # revision is the current prompt; its state is the item's prompt state.
    db["prompt_revisions"].create(
        {
            "id": int,
            "item_id": str,
            "rev": int,
            "text": str,
            "sha256": str,
            "state": str,
            "origin": str,
            "provenance": str,
            "note": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("item_id", "items", "id")],
    )
    db["prompt_revisions"].create_index(["item_id", "rev"], unique=True)
    db["curation"].create(
        {"item_id": str, "decision": str, "note": str, "updated_at": str},
        pk="item_id",
        foreign_keys=[("item_id", "items", "id")],
    )
    db["curation_history"].create(
        {"id": int, "item_id": str, "decision": str, "note": str, "created_at": str}, pk="id"
    )
    # Token counts keyed by a hash of (tokenizer, rendered content): edits recount one example.
    db["token_cache"].create(
        {"key": str, "tokenizer": str, "total": int, "parts": str, "created_at": str}, pk="key"
    )
    db["budget"].create(
        {
            "item_id": str,
            "max_tokens": int,
            "total_tokens": int,
            "widget_tokens": int,
            "parts": str,
            "action": str,
            "reason": str,
            "over_by": int,
            "tokenizer": str,
            "example_sha256": str,
            "computed_at": str,
        },
        pk="item_id",
    )
    db["jobs"].create(
        {
            "id": str,
            "kind": str,
            "state": str,
            "params": str,
            "total": int,
            "done": int,
            "failed": int,
            "started_at": str,
            "ended_at": str,
            "summary": str,
            "error": str,
        },
        pk="id",
    )
    db["job_logs"].create(
        {"id": int, "job_id": str, "ts": str, "level": str, "item_id": str, "message": str},
        pk="id",
    )
    db["job_logs"].create_index(["job_id"])
    db["datasets"].create(
        {
            "name": str,
            "created_at": str,
            "config_hash": str,
            "tokenizer": str,
            "counts": str,
            "manifest_sha256": str,
            "path": str,
        },
        pk="name",
    )


@migrations()
def m002_prompt_files(db: Database) -> None:
    # Which revision each prompts/{id}.prompt was last written from, and the sha256 of the
    # bytes written: a file that differs was edited by hand (core/prompts/files.py).
    db["prompt_files"].create(
        {"item_id": str, "rev": int, "sha256": str, "written_at": str}, pk="item_id"
    )


@migrations()
def m003_job_owner(db: Database) -> None:
    # Who runs a job: a job whose process is gone (killed, crashed, machine off) is found
    # by pid + host on this machine, by an old heartbeat on another, and marked interrupted.
    db["jobs"].add_column("pid", int)
    db["jobs"].add_column("host", str)
    db["jobs"].add_column("heartbeat_at", str)
    db["jobs"].create_index(["state"])


@migrations()
def m004_split_assignments(db: Database) -> None:
    # The split each example of a set was built into: later builds of the same set keep it
    # (core/dataset/splits.assign_stable); `build --reshuffle` starts the set over.
    db["split_assignments"].create(
        {"set_name": str, "item_id": str, "split": str, "assigned_at": str},
        pk=("set_name", "item_id"),
    )


@migrations()
def m005_prompt_file_stat(db: Database) -> None:
    # What the file system said about each prompts/{id}.prompt right after graftwork wrote or
    # checked it (size, mtime_ns, inode): a file that still says the same was not edited, so
    # the pickup before budget and build reads only files whose stat changed. NULL: unknown
    # (older rows, coarse timestamps): such a file is read.
    db["prompt_files"].add_column("size", int)
    db["prompt_files"].add_column("mtime_ns", int)
    db["prompt_files"].add_column("ino", int)
