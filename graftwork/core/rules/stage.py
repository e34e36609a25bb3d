"""The `buckets` stage: generate every bucket from the spec, write one JSONL file per bucket
(data/processed/buckets/<bucket>.jsonl, each replaced whole) and put the records in the catalog
as items with their examples (the import source, so budget, build, export and train work on
them unchanged). A spec problem stops the stage before anything is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from graftwork.core.base.atomic import atomic_writer
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.rules.buckets import generate, load_buckets

OUT_DIR = Path("data") / "processed" / "buckets"
DEFAULT_SPEC = "spec.yaml"


def spec_path(ws: Workspace, spec: str | None) -> Path:
    if spec is None:
        return ws.root / DEFAULT_SPEC
    path = Path(spec).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def run_buckets(ws: Workspace, *, spec: str | None = None, job: Job) -> StageResult:
    from graftwork.core.sources.imported import import_records

    loaded, tools = load_buckets(spec_path(ws, spec))
    gen = generate(loaded, tools)
    for warning in gen.warnings:
        job.log(warning, level="warning")
    out_dir = ws.root / OUT_DIR
    written: list[Path] = []
    catalog: list[tuple[Path, int, Any]] = []
    job.set_total(sum(len(r) for r in gen.records.values()))
    for bucket, records in gen.records.items():
        path = out_dir / gen.files[bucket]
        with atomic_writer(path) as fh:
            for rec in records:
                fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        written.append(path)
        for line, (rec, rid) in enumerate(zip(records, gen.ids[bucket], strict=True), 1):
            meta = {"id": rid, "bucket": bucket, "task_type": rec["task_type"]}
            value = {"instruction": rec["instruction"], "input": rec["input"]}
            catalog.append((path, line, {**value, "output": rec["output"], "meta": meta}))
    result = import_records(ws, catalog, fmt="alpaca", job=job)
    result.outputs = written
    result.summary = {
        **result.summary,
        "spec": str(loaded.path),
        "counts": {b: {"made": m, "target": t} for b, (m, t) in gen.counts.items()},
        "files": [str(p) for p in written],
        "warnings": gen.warnings,
    }
    return result


TEMPLATES_DIR = Path("data") / "processed" / "templates"


def run_templates(
    ws: Workspace, *, spec: str | None = None, job: Job, open_tokenizer: Any = None
) -> StageResult:
    """The `templates` stage: Alpaca records (schema-checked) as <name>_<version>.jsonl plus
    train/val/test.jsonl (a word in one split only), and as catalog items."""
    from graftwork.core.rules.alpaca import (
        SPLITS,
        generate_alpaca,
        jsonl,
        load_templates,
        split_fractions,
    )
    from graftwork.core.rules.provider import SPLIT_KEY
    from graftwork.core.sources.imported import import_records

    loaded, warnings = load_templates(spec_path(ws, spec), open_tokenizer)
    made = generate_alpaca(loaded, warnings)
    for warning in made.warnings:
        job.log(warning, level="warning")
    out_dir = ws.root / TEMPLATES_DIR
    name = f"{loaded.spec.dataset.name}_{loaded.version}"
    whole = out_dir / f"{name}.jsonl"
    job.set_total(len(made.records))
    with atomic_writer(whole) as fh:
        fh.write(jsonl(made.records))
    written = [whole]
    for split in SPLITS:
        path = out_dir / f"{split}.jsonl"
        with atomic_writer(path) as fh:
            fh.write(jsonl([made.records[i] for i in made.splits[split]]))
        written.append(path)
    # The catalog's copy also keeps the word (its split key; the recipe's provider moves it
    # out of the record's meta), so build splits the set as these files are split.
    catalog = [
        (whole, line, {**rec, "meta": {**rec["meta"], "id": rid, SPLIT_KEY: word}})
        for line, (rec, rid, word) in enumerate(
            zip(made.records, made.ids, made.words, strict=True), 1
        )
    ]
    result = import_records(ws, catalog, fmt="alpaca", job=job)
    result.outputs = written
    result.summary = {
        **result.summary,
        "spec": str(loaded.path),
        "records": len(made.records),
        "counts": made.counts,
        "targets": {name: cat.count for name, cat in loaded.spec.categories.items()},
        "splits": {s: len(ix) for s, ix in made.splits.items()},
        "split_rule": {"fractions": split_fractions(loaded.spec), "seed": loaded.spec.splits.seed},
        "files": [str(p) for p in written],
        "warnings": made.warnings,
    }
    return result
