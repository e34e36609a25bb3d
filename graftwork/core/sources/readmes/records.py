"""The seed's SFT files for a built set: sft_dataset.json (every record), train.json and
test.json, beside the set's JSONL in datasets/<set>/.

A record is the seed's {"instruction", "input": {"file_tree", "project_type", "key_files"?},
"content"}. The split of each record is the one build gave its example; build splits this
recipe by repository (the example's split_key), so all chunks of a README are on one side.
train.json holds train and valid (the seed has no valid split), test.json holds test."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlite_utils

from graftwork.core.base.atomic import write_json
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.jobs import Job, StageResult, stage_db
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.candidates import current_prompts
from graftwork.core.sources.readmes.provider import ReadmesExamples

SEED_FILES = ("sft_dataset.json", "train.json", "test.json")


def write_seed_files(
    db: sqlite_utils.Database,
    provider: ReadmesExamples,
    set_dir: Path,
    items: list[tuple[str, str]],
) -> tuple[dict[str, int], list[tuple[str, str]]]:
    """Write the three files for (item id, split) pairs: (counts, failures)."""
    prompts = current_prompts(db)
    every: list[dict[str, Any]] = []
    train: list[dict[str, Any]] = []
    test: list[dict[str, Any]] = []
    failed: list[tuple[str, str]] = []
    for item_id, split in items:
        try:
            record = provider.record(db, item_id, prompts.get(item_id, ("", ""))[0])
        except ValueError as exc:
            failed.append((item_id, str(exc)))
            continue
        every.append(record)
        (test if split == "test" else train).append(record)
    write_json(set_dir / "train.json", train)
    write_json(set_dir / "test.json", test)
    write_json(set_dir / "sft_dataset.json", every)
    return {"records": len(every), "train": len(train), "test": len(test)}, failed


def records_stage(
    ws: Workspace, *, set_name: str, job: Job, db: sqlite_utils.Database | None = None
) -> StageResult:
    set_dir = ws.datasets_dir / set_name
    manifest_path = set_dir / "manifest.json"
    if not manifest_path.is_file():
        raise GraftworkError(
            f"set {set_name!r} is not built yet: run `graftwork build --set {set_name}`"
        )
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    items = [(e["id"], e["split"]) for e in manifest.get("items", []) if e.get("id")]
    db = stage_db(ws, job, db)
    job.set_total(len(items))
    counts, failed = write_seed_files(db, ReadmesExamples(ws), set_dir, items)
    job.advance(len(items))
    result = StageResult(ok=counts["records"], failed=failed)
    for item_id, cause in failed:
        job.item_failed(item_id, cause)
    result.outputs = [set_dir / name for name in SEED_FILES]
    result.summary = {"set": set_name, **counts}
    return result
