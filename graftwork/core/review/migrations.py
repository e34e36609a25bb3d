"""Schema of samples and reviews. Append new migrations at the end; never edit a shipped one."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("graftwork.review")


@migrations()
def m001_samples_reviews(db: Database) -> None:
    # One row per (run, held-out prompt, sampling settings): base and adapter output side by
    # side with the reference answer, so a review never needs the model again.
    db["samples"].create(
        {
            "id": int,
            "run_id": str,
            "item_id": str,
            "split": str,
            "prompt": str,
            "reference": str,
            "base_output": str,
            "adapter_output": str,
            "seed": int,
            "temperature": float,
            "max_tokens": int,
            "base_ms": float,
            "adapter_ms": float,
            "created_at": str,
        },
        pk="id",
    )
    db["samples"].create_index(["run_id", "item_id"])
    # Verdict per sample (accept | reject | none), optional 1-5 score and note.
    db["reviews"].create(
        {
            "sample_id": int,
            "verdict": str,
            "score": int,
            "note": str,
            "promoted": int,
            "updated_at": str,
        },
        pk="sample_id",
        foreign_keys=[("sample_id", "samples", "id")],
    )
    # Accepted adapter outputs promoted into the catalog: the new item (source "generated")
    # and the exact Apple-schema line, so provenance survives re-imports.
    db["promotions"].create(
        {
            "sample_id": int,
            "item_id": str,
            "source_item_id": str,
            "run_id": str,
            "prompt_revision_id": int,
            "example_sha256": str,
            "apple_line": str,
            "created_at": str,
        },
        pk="sample_id",
        foreign_keys=[("sample_id", "samples", "id")],
    )


@migrations()
def m002_sample_messages(db: Database) -> None:
    # The Apple-schema messages the prompt was rendered from (system with tools, user), so a
    # promoted sample becomes exactly the example that was held out, with a new answer.
    db["samples"].add_column("messages", str)
    db["samples"].add_column("base_tokens", int)
    db["samples"].add_column("adapter_tokens", int)
    db["samples"].add_column("adapter", str)  # which checkpoint: best | last
