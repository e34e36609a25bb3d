"""`graftwork plan`: read the spec, expand it and store the planned prompts in the catalog
(items.source = 'plan' + plan_items) and in prompt_plan_<version>.jsonl."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graftwork.core.base.atomic import atomic_writer
from graftwork.core.base.catalog.db import now
from graftwork.core.base.jobs import Job, StageResult, stage_db
from graftwork.core.base.workspace import Workspace
from graftwork.core.plan.paths import PlanPaths, default_spec_path
from graftwork.core.spec.expand import expand
from graftwork.core.spec.load import load_spec, spec_json

SOURCE = "plan"


def resolve_spec(ws: Workspace, spec: str | Path | None) -> Path:
    if spec is None:
        return default_spec_path(ws)
    path = Path(spec).expanduser()
    return path if path.is_absolute() else (Path.cwd() / path)


def run_plan(ws: Workspace, *, spec: str | None = None, job: Job) -> StageResult:
    loaded = load_spec(resolve_spec(ws, spec))  # SpecError (exit 2) before anything is written
    for warning in loaded.warnings:
        job.log(warning, level="warning")
    result = expand(loaded)
    for warning in result.warnings[len(loaded.warnings) :]:
        job.log(warning, level="warning")
    name, version = loaded.spec.dataset.name, loaded.version
    paths = PlanPaths(ws, version)
    job.set_total(len(result.prompts))
    records = [p.record(name, version) for p in result.prompts]
    with atomic_writer(paths.plan_file) as fh:
        for rec in records:
            fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
    db = stage_db(ws, job)
    stamp = now()
    counts = {c: {"planned": made, "target": target} for c, (made, target) in result.counts.items()}
    with db.conn:
        spec_id = db.conn.execute(
            "INSERT INTO plan_specs (name, version, path, sha256, spec, warnings, counts, created_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                name,
                version,
                str(loaded.path),
                loaded.sha256,
                spec_json(loaded),
                json.dumps(result.warnings, ensure_ascii=False),
                json.dumps(counts),
                stamp,
            ],
        ).lastrowid
        db.conn.executemany(
            "INSERT INTO items (id, source, name, author, description, manifest, manifest_order, "
            "added_at, updated_at) VALUES (?, ?, ?, '', ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET "
            "manifest = excluded.manifest, manifest_order = excluded.manifest_order, "
            "updated_at = excluded.updated_at",
            (
                (
                    p.id,
                    SOURCE,
                    _short(p.prompt),
                    p.category,
                    json.dumps(rec, ensure_ascii=False),
                    i,
                    stamp,
                    stamp,
                )
                for i, (p, rec) in enumerate(zip(result.prompts, records, strict=True))
            ),
        )
        db.conn.executemany(
            "INSERT OR REPLACE INTO plan_items (item_id, spec_id, ord, category, template_id, prompt, "
            "variables, tags, planned_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    p.id,
                    spec_id,
                    i,
                    p.category,
                    p.template_id,
                    p.prompt,
                    json.dumps(p.variables, ensure_ascii=False),
                    json.dumps(p.tags, ensure_ascii=False),
                    stamp,
                )
                for i, p in enumerate(result.prompts)
            ),
        )
    job.advance(len(result.prompts))
    summary: dict[str, Any] = {
        "spec": str(loaded.path),
        "dataset": name,
        "version": version,
        "prompts": len(result.prompts),
        "counts": counts,
        "warnings": result.warnings,
        "plan_file": str(paths.plan_file),
        "spec_id": spec_id,
    }
    skipped = [
        (tid, f"template skipped: no values for {', '.join(m)}")
        for c in loaded.categories
        for tid, m in c.skipped
    ]
    return StageResult(
        ok=len(result.prompts), skipped=skipped, outputs=[paths.plan_file], summary=summary
    )


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
