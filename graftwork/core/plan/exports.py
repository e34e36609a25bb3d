"""The seed's files as exports of the catalog (rewritten whole, atomically, after each stage):
data/interim/{prompt_plan,drafts,critiques}_<v>.jsonl, data/processed/dataset_<v>.jsonl,
dataset_<v>_rejected.jsonl, dataset_<v>_stats.json; `split` writes splits/<v>/, sft/<v>/ and
eval/suites/<suite>_<v>.jsonl. The sample area writes the same names under .../sample/."""

from __future__ import annotations

import json
import random
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import sqlite_utils

from graftwork.core.base.atomic import atomic_writer, write_json
from graftwork.core.base.jobs import Job, StageResult, stage_db
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import make_example
from graftwork.core.dataset.splits import assign_split
from graftwork.core.plan import records
from graftwork.core.plan.paths import PlanPaths


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    with atomic_writer(path) as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    return path


def export_teach_files(ws: Workspace, db: sqlite_utils.Database, area: str) -> list[Path]:
    view = records.read_view(db, area)
    paths = PlanPaths(ws, view.version, area)
    out = [
        write_jsonl(paths.interim_file("drafts"), records.draft_records(view)),
        write_jsonl(paths.interim_file("critiques"), records.critique_records(view)),
    ]
    if view.gates:
        out.append(write_jsonl(paths.dataset_file(), records.dataset_records(view, "accepted")))
        out.append(
            write_jsonl(paths.dataset_file("_rejected"), records.dataset_records(view, "rejected"))
        )
        stats = paths.dataset_file("_stats", "json")
        write_json(stats, records.stats(view))
        out.append(stats)
    return out


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    rows = []
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                rows.append(json.loads(line))
            except ValueError as exc:
                from graftwork.core.base.errors import GraftworkError

                raise GraftworkError(f"{path}:{n}: not a JSON line ({exc})") from None
    return rows


def sft_record(rec: dict[str, Any]) -> dict[str, Any]:
    """mlx-chat: {"messages": [system?, user, assistant]} (the shape mlx-lm trains on)."""
    ex = make_example(rec["id"], rec.get("system") or "", None, rec["prompt"], rec["response"])
    messages = [m for m in ex.messages if m["role"] != "system" or m["content"]]
    return {"messages": messages}


def fixed_suite(test: list[dict[str, Any]], size: int, seed: int) -> list[dict[str, Any]]:
    """``size`` prompts from the test split, round-robin over categories (each category's
    prompts in a seeded order), so every category is represented as evenly as it can be."""
    by_cat: dict[str, list[dict[str, Any]]] = {}
    for rec in test:
        by_cat.setdefault(rec["category"], []).append(rec)
    for cat, recs in by_cat.items():
        random.Random(f"{seed}:suite:{cat}").shuffle(recs)
    picked: list[dict[str, Any]] = []
    while len(picked) < size and any(by_cat.values()):
        for cat in sorted(by_cat):
            if by_cat[cat] and len(picked) < size:
                picked.append(by_cat[cat].pop())
    return [
        {
            "id": r["id"],
            "category": r["category"],
            "tags": r.get("tags", {}),
            "system": r.get("system", ""),
            "prompt": r["prompt"],
        }
        for r in picked
    ]


def spec_splits(spec: dict[str, Any]) -> tuple[dict[str, float], int]:
    """The one source of a plan's splits: the spec's fractions (val -> valid) and seed. Both
    `graftwork split` and build (PlanExamples.splits) assign with these by `assign_split`."""
    splits = spec.get("splits") or {}
    fractions = {
        "train": float(splits.get("train", 0.8)),
        "valid": float(splits.get("val", 0.1)),
        "test": float(splits.get("test", 0.1)),
    }
    return fractions, int(splits.get("seed", 42))


def run_split(ws: Workspace, *, area: str = "main", job: Job) -> StageResult:
    """dataset_<v>_clean.jsonl (when `qa` ran) or dataset_<v>.jsonl -> seeded splits (by id,
    fractions and seed from the spec), SFT files and the fixed evaluation suite."""
    db = stage_db(ws, job)
    view = records.read_view(db, area)
    paths = PlanPaths(ws, view.version, area)
    source = paths.dataset_file("_clean")
    if not source.exists():
        export_teach_files(ws, db, area)
        source = paths.dataset_file()
    if not source.exists():
        from graftwork.core.base.errors import GraftworkError

        raise GraftworkError(f"{source} does not exist yet: run `graftwork teach refine` first")
    rows = read_jsonl(source)
    spec = view.spec["parsed"]
    fractions, seed = spec_splits(spec)
    parts: dict[str, list[dict[str, Any]]] = {"train": [], "val": [], "test": []}
    for rec in rows:
        name = assign_split(rec["id"], fractions, seed)
        parts["val" if name == "valid" else name].append(rec)
    job.set_total(len(rows))
    outputs = [
        write_jsonl(paths.splits_dir / f"{name}.jsonl", recs) for name, recs in parts.items()
    ]
    outputs.append(write_jsonl(paths.sft_dir / "train_sft.jsonl", map(sft_record, parts["train"])))
    outputs.append(write_jsonl(paths.sft_dir / "val_sft.jsonl", map(sft_record, parts["val"])))
    suite_cfg = spec.get("eval") or {}
    suite = fixed_suite(parts["test"], int(suite_cfg.get("size", 20)), seed)
    suite_path = paths.suite_file(suite_cfg.get("name", "fixed20"))
    outputs.append(write_jsonl(suite_path, suite))
    if len(suite) < int(suite_cfg.get("size", 20)):
        job.log(
            f"the test split holds {len(parts['test'])} record(s): the suite has {len(suite)} prompt(s)",
            level="warning",
        )
    job.advance(len(rows))
    counts = {name: len(recs) for name, recs in parts.items()}
    return StageResult(
        ok=len(rows),
        outputs=outputs,
        summary={
            "source": str(source),
            "counts": counts,
            "suite": str(suite_path),
            "suite_size": len(suite),
            "area": area,
        },
    )
