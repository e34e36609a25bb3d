"""Verdicts on samples, and promotion of accepted adapter outputs into the catalog.

Promotion (why this shape): `build` turns every JSX widget with a current prompt into an
example, reading the code from downloads/<folder>. A promoted sample therefore becomes a new
item of source "generated" (id `<widget>__gen<sample id>`), its code written under
downloads/<new id>/ exactly as the adapter produced it (split back into files at its
`// File: <path>` headers, so load_widget_code reproduces the output up to blank lines between files), an analysis row marking it
JSX, and the sample's prompt as revision 1 with origin "generated" (state accepted, provenance:
run, sample, source widget, sampling settings). The next `build` includes it like any widget
and the TUI shows it with its source. `promotions` keeps the exact Apple line promoted.
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import sqlite_utils

from graftwork.core.base.atomic import write_text
from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import make_example, sha256_text
from graftwork.core.review.samples import SAMPLES_WITH_REVIEW
from graftwork.core.sources.uebersicht import load_widget_code

VERDICTS = ("accept", "reject", "none")
GENERATED_SOURCE = "generated"
_FILE_HEADER = re.compile(r"^// File: (?P<path>[^\n]+)\n", re.MULTILINE)


class ReviewError(GraftworkError):
    exit_code = 2


def get_sample(db: sqlite_utils.Database, sample_id: int) -> dict[str, Any]:
    rows = list(db.query(f"{SAMPLES_WITH_REVIEW} where s.id = ?", [sample_id]))
    if not rows:
        raise ReviewError(f"no sample {sample_id} (see `graftwork review list --run ID`)")
    return rows[0]


def set_verdict(
    db: sqlite_utils.Database,
    sample_id: int,
    verdict: str | None = None,
    score: int | None = None,
    note: str | None = None,
) -> dict[str, Any]:
    """Update a sample's review; None leaves a field as it was. Returns the review row."""
    if verdict is not None and verdict not in VERDICTS:
        raise ReviewError(f"verdict must be one of {', '.join(VERDICTS)}, got {verdict!r}")
    if score is not None and not (isinstance(score, int) and 1 <= score <= 5):
        raise ReviewError(f"score must be a whole number from 1 to 5, got {score!r}")
    sample = get_sample(db, sample_id)
    if sample["promoted"] and verdict in ("reject", "none"):
        raise ReviewError(
            f"sample {sample_id} was already promoted into the catalog; its verdict stays accept"
        )
    row = {
        "sample_id": sample_id,
        "verdict": verdict if verdict is not None else sample["verdict"],
        "score": score if score is not None else sample["score"],
        "note": note if note is not None else sample["note"],
        "promoted": sample["promoted"],
        "updated_at": now(),
    }
    db["reviews"].upsert(row, pk="sample_id")
    return row


def _split_files(code: str) -> dict[str, str]:
    """`// File: a.jsx` sections back into files; a headerless answer becomes index.jsx."""
    matches = list(_FILE_HEADER.finditer(code))
    if not matches or code[: matches[0].start()].strip():
        return {"index.jsx": code.rstrip() + "\n"}
    files: dict[str, str] = {}
    for m, nxt in zip(matches, [*matches[1:], None], strict=True):
        rel = m.group("path").strip()
        body = code[m.end() : nxt.start() if nxt else len(code)]
        parts = Path(rel).parts
        if not rel.endswith(".jsx") or Path(rel).is_absolute() or ".." in parts or rel in files:
            return {
                "index.jsx": code.rstrip() + "\n"
            }  # not a clean file list: keep the answer whole
        files[rel] = body.rstrip() + "\n"
    return files


def _write_widget(ws: Workspace, item_id: str, code: str) -> list[str]:
    folder = ws.downloads_dir / item_id
    if folder.exists():
        shutil.rmtree(folder)
    files = _split_files(code)
    for rel, text in files.items():
        write_text(folder / rel, text)
    return sorted(files)


def promote_sample(
    ws: Workspace, db: sqlite_utils.Database, sample: dict[str, Any]
) -> dict[str, Any]:
    """Turn one accepted sample into a new generated item; returns the promotions row."""
    from graftwork.core.base.project import load_project
    from graftwork.core.prompts.prompts import add_revision

    code = (sample.get("adapter_output") or "").strip()
    if not code:
        raise ReviewError(f"sample {sample['id']}: the adapter output is empty; nothing to promote")
    new_id = f"{sample['item_id']}__gen{sample['id']}"
    source = next(iter(db.query("select * from items where id = ?", [sample["item_id"]])), {})
    stamp = now()
    files = _write_widget(ws, new_id, code)
    code = load_widget_code(ws.downloads_dir / new_id)  # exactly what build will read back
    provenance = {
        "run_id": sample["run_id"],
        "sample_id": sample["id"],
        "source_item_id": sample["item_id"],
        "seed": sample["seed"],
        "temperature": sample["temperature"],
        "max_tokens": sample["max_tokens"],
        "score": sample.get("score"),
    }
    with db.conn:
        db["items"].upsert(
            {
                "id": new_id,
                "source": GENERATED_SOURCE,
                "name": f"{source.get('name') or sample['item_id']} (generated)",
                "author": source.get("author"),
                "description": source.get("description"),
                "manifest": json.dumps({"generated": provenance}, ensure_ascii=False),
                "manifest_order": source.get("manifest_order"),
                "added_at": stamp,
                "updated_at": stamp,
            },
            pk="id",
        )
        db["downloads"].upsert(
            {
                "item_id": new_id,
                "url": f"generated:{sample['run_id']}/{sample['id']}",
                "status": "ok",
                "file_count": len(files),
                "path": str(ws.downloads_dir / new_id),
                "attempts": 0,
                "downloaded_at": stamp,
            },
            pk="item_id",
        )
        db["analysis"].upsert(
            {
                "item_id": new_id,
                "kind": "jsx",
                "is_jsx": 1,
                "is_coffee": 0,
                "has_js": 0,
                "folder": new_id,
                "files": json.dumps(files),
                "file_count": len(files),
                "code_bytes": len(code.encode()),
                "code_sha256": sha256_text(code),
                "analyzed_at": stamp,
                "error": None,
            },
            pk="item_id",
        )
    revision = add_revision(
        db,
        new_id,
        sample["prompt"],
        origin="generated",
        state="accepted",
        provenance=provenance,
        note=f"promoted from sample {sample['id']}",
    )
    project = load_project(ws)
    example = make_example(new_id, project.system_prompt, project.tool, sample["prompt"], code)
    row = {
        "sample_id": sample["id"],
        "item_id": new_id,
        "source_item_id": sample["item_id"],
        "run_id": sample["run_id"],
        "prompt_revision_id": revision["id"],
        "example_sha256": example.sha256(),
        "apple_line": example.apple_line(),
        "created_at": stamp,
    }
    with db.conn:
        db["promotions"].upsert(row, pk="sample_id")
        db["reviews"].update(sample["id"], {"promoted": 1, "updated_at": stamp})
    return row


def promote_run(ws: Workspace, db: sqlite_utils.Database, run_id: str) -> list[dict[str, Any]]:
    """Promote every accepted, not yet promoted sample of the run."""
    rows = list(
        db.query(
            "select s.*, r.verdict, r.score, r.note, r.promoted from samples s join reviews r on r.sample_id = s.id "
            "where s.run_id = ? and r.verdict = 'accept' and coalesce(r.promoted, 0) = 0 order by s.id",
            [run_id],
        )
    )
    return [promote_sample(ws, db, row) for row in rows]
