"""Schema of the sources' own tables. Append new migrations at the end; never edit a shipped one."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("graftwork.sources")


@migrations()
def m001_import_examples(db: Database) -> None:
    # The import recipe's examples: one row per revision of an imported record (never updated
    # or deleted; the newest rev is the item's example). messages/tools/meta are JSON as the
    # record gave them; sha256 covers all three, so a re-import of an unchanged record writes
    # nothing. origin is "file:line" of the record the revision came from.
    db["import_examples"].create(
        {
            "id": int,
            "item_id": str,
            "rev": int,
            "format": str,
            "messages": str,
            "tools": str,
            "meta": str,
            "sha256": str,
            "origin": str,
            "created_at": str,
        },
        pk="id",
        foreign_keys=[("item_id", "items", "id")],
    )
    db["import_examples"].create_index(["item_id", "rev"], unique=True)
