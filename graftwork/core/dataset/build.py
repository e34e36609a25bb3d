"""Build a dataset: train/valid/test JSONL plus manifest.json, in the workspace recipe's set
format: `apple` (each line Apple's adapter schema, a JSON array of messages) or `chat` (each
line mlx-lm's {"messages", "tools"} object). manifest.json says which (`format`).

Everything is written into a hidden temp folder inside datasets/ and renamed into place, so a
kill leaves the old set or the new one, never a mix. Replacing an existing set (--force) is an
atomic directory exchange where the OS has one (Linux, macOS); elsewhere two renames (old
aside, new in), and `recover_sets` finishes or undoes an interrupted pair.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import ConfigError, GraftworkError
from graftwork.core.base.gcpause import paused_gc
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.project import ProjectConfig, load_project
from graftwork.core.base.workspace import Workspace
from graftwork.core.budget.budget import exceeds_reason, strategy_entry, write_json_fast
from graftwork.core.budget.tokens import TokenCounter, counts_label
from graftwork.core.curate.curation import all_decisions
from graftwork.core.dataset.candidates import load_candidates
from graftwork.core.dataset.examples import Example, sha256_text
from graftwork.core.dataset.sets import SET_FORMATS, apple_line_of, render_line, validate_line
from graftwork.core.dataset.splits import (
    SPLIT_NAMES,
    assign_split,
    assign_stable,
    bucket,
    record_splits,
    recorded_splits,
)
from graftwork.core.sources.base import recipe_splits

SET_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")


class DatasetExistsError(GraftworkError):
    """The set already exists and --force was not given (a usage error: exit code 2)."""

    exit_code = 2


def check_set_name(name: str) -> None:
    if not SET_NAME.match(name) or ".." in name:
        raise ConfigError(
            f"--set: {name!r} is not a valid set name (letters, digits, '_', '-', '.'; must not start with '.')"
        )


def config_hash(project: ProjectConfig, max_tokens: int, stratify: str | None = None) -> str:
    settings: dict[str, Any] = {
        "project": project.content_hash(),
        "splits": project.splits.model_dump(),
        "seed": project.seed,
        "max_tokens": max_tokens,
    }
    if stratify:  # only when set: hashes of sets built before stratify existed stay the same
        settings["stratify"] = stratify
    blob = json.dumps(settings, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()


def recover_sets(datasets_dir: Path, name: str | None = None) -> None:
    """Clean up after a build that was killed: drop temp folders, restore or drop set-asides.

    With ``name``, only that set's leftovers (another set may be building right now)."""
    if not datasets_dir.is_dir():
        return
    for entry in datasets_dir.iterdir():
        m = re.match(r"^\.(.+)\.(tmp|old)-[0-9a-f]{12}$", entry.name)
        if not m or not entry.is_dir() or (name is not None and m.group(1) != name):
            continue
        target = datasets_dir / m.group(1)
        if m.group(2) == "old" and not target.exists():
            os.rename(entry, target)  # killed between the two renames: the old set comes back
        else:
            shutil.rmtree(entry, ignore_errors=True)


def _curation(db: Any) -> dict[str, tuple[str, str]]:
    return {i: (r["decision"] or "", r["note"] or "") for i, r in all_decisions(db).items()}


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_lines(path: Path, lines: Sequence[str]) -> None:
    with open(path, "w", encoding="utf-8", newline="") as fh:
        for line in lines:
            fh.write(line)
            fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())


def swap_dirs(a: Path, b: Path) -> bool:
    """Exchange two directories in one atomic step where the OS offers it (Linux renameat2
    RENAME_EXCHANGE, macOS renamex_np RENAME_SWAP). False if it cannot; nothing moved then."""
    import ctypes
    import sys

    try:
        libc = ctypes.CDLL(None, use_errno=True)
        if sys.platform.startswith("linux") and hasattr(libc, "renameat2"):
            at_fdcwd, rename_exchange = -100, 2
            rc = libc.renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
        elif sys.platform == "darwin" and hasattr(libc, "renamex_np"):
            rename_swap = 2
            rc = libc.renamex_np(os.fsencode(a), os.fsencode(b), rename_swap)
        else:
            return False
    except OSError:  # no usable libc
        return False
    return rc == 0  # e.g. EINVAL on a filesystem without exchange: the caller falls back


def _place(tmp: Path, target: Path, force: bool) -> None:
    if not target.exists():
        os.rename(tmp, target)
        return
    if not force:
        raise DatasetExistsError(
            f"dataset '{target.name}' already exists at {target}; pass --force to replace it"
        )
    if swap_dirs(tmp, target):  # one step: readers see the old set or the new one
        _fsync_dir(target.parent)
        shutil.rmtree(tmp, ignore_errors=True)  # now holds the old set
        return
    aside = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:12]}"
    os.rename(target, aside)  # two steps; recover_sets finishes or undoes a kill in between
    os.rename(tmp, target)
    _fsync_dir(target.parent)
    shutil.rmtree(aside, ignore_errors=True)


def build(
    ws: Workspace,
    set_name: str,
    *,
    counter: TokenCounter,
    force: bool = False,
    max_tokens: int | None = None,
    reshuffle: bool = False,
    example_limit: int | None = None,
    stratify: str | None = None,
    job: Job,
) -> StageResult:
    """Build datasets/<set_name>. The budget is applied from fresh counts (through the token
    cache, so never stale) at ``max_tokens`` or the project's max_sequence_length. Examples
    keep the splits earlier builds of the set recorded, unless ``reshuffle``. With
    ``example_limit`` the set holds at most that many (a seeded pick by split key: the seed's
    dry run on 100 samples, a mini fine-tune on 2-3k). ``stratify``
    "category" (or project.stratify when None; "none" turns it off) spreads each widget
    category (`teach categories`) over the splits by its share."""
    check_set_name(set_name)
    target = ws.datasets_dir / set_name
    ws.datasets_dir.mkdir(parents=True, exist_ok=True)
    recover_sets(ws.datasets_dir, set_name)
    if target.exists() and not force:  # fail before any work
        orphan = orphan_manifest(ws, set_name)
        if orphan is not None:
            return _adopt(ws, set_name, orphan, job)
        raise DatasetExistsError(
            f"dataset '{set_name}' already exists at {target}; pass --force to replace it"
        )
    from graftwork.core.recipes import workspace_recipe

    project = load_project(ws)
    recipe = workspace_recipe(ws)
    set_format = recipe.set_format
    if set_format not in SET_FORMATS:
        raise ConfigError(f"recipe {recipe.name!r}: unknown set format {set_format!r}")
    limit = max_tokens or project.max_sequence_length
    with ws.catalog() as db, paused_gc():
        _pick_up_hand_edits(ws, db, job)
        provider = recipe.example_provider(ws)
        cands = load_candidates(db, provider)
        splits = SplitState(
            {} if reshuffle else recorded_splits(db, set_name),
            own=recipe_splits(provider, db),
            limit=example_limit,
        )
        for item_id, cause in cands.failed:
            job.item_failed(item_id, cause)
        result = StageResult(failed=list(cands.failed), skipped=list(cands.skipped))
        strat = _stratify(stratify, project)
        if strat == "category" and splits.own is None:
            splits.strata = _category_strata(db, job)
        lines, items = _select(
            cands.examples, counter, project, limit, _curation(db), result, job, set_format, splits
        )
        counts_by_split = {s: len(lines[s]) for s in SPLIT_NAMES}
        if not items:
            job.log(
                f"dataset '{set_name}' has no examples (nothing usable passed budget and curation)",
                level="warning",
            )
        manifest = {
            "name": set_name,
            "format": set_format,
            "recipe": recipe.name,
            "created_at": now(),
            "config_hash": config_hash(project, limit, strat),
            "project_hash": project.content_hash(),
            "splits": splits.own[0] if splits.own else project.splits.model_dump(),
            "seed": splits.own[1] if splits.own else project.seed,
            **({"stratify": strat} if splits.strata is not None else {}),
            "max_tokens": limit,
            **_limit_note(splits),
            "tokenizer": counter.id,
            "token_counts": counts_label(counter.id),
            "counts": counts_by_split,
            "items": items,
            "skipped": [{"id": i, "reason": r} for i, r in result.skipped],
            "failed": [{"id": i, "reason": r} for i, r in result.failed],
        }
        _write_set(ws.datasets_dir, set_name, lines, manifest, force)
        record_splits(db, set_name, splits.assigned, reshuffle=reshuffle, previous=splits.previous)
        manifest_sha = hashlib.sha256((target / "manifest.json").read_bytes()).hexdigest()
        db["datasets"].upsert(
            {
                "name": set_name,
                "created_at": manifest["created_at"],
                "config_hash": manifest["config_hash"],
                "tokenizer": counter.id,
                "counts": json.dumps(counts_by_split),
                "manifest_sha256": manifest_sha,
                "path": str(target),
            },
            pk="name",
        )
    result.ok = len(items)
    result.outputs = [target / f"{s}.jsonl" for s in SPLIT_NAMES] + [target / "manifest.json"]
    result.summary = {
        "set": set_name,
        "path": str(target),
        "counts": counts_by_split,
        "max_tokens": limit,
        "tokenizer": counter.id,
        "token_counts": counts_label(counter.id),
        "skipped": len(result.skipped),
        "failed": len(result.failed),
        **_limit_note(splits),
    }
    return result


def _limit_note(splits: SplitState) -> dict[str, int]:
    """What --limit did, for the manifest and the summary (nothing without a limit)."""
    if splits.limit is None:
        return {}
    return {"example_limit": splits.limit, "left_out_by_limit": splits.left_out}


def _pick_up_hand_edits(ws: Workspace, db: Any, job: Job) -> None:
    """The seed's users edit prompts/{id}.prompt and training_data_strategy.json, then build:
    both kinds of edit are applied (and logged) before the examples are read."""
    from graftwork.core.curate.strategy_edits import apply_strategy_edits, log_strategy_edits
    from graftwork.core.prompts.pickup import log_pickup, pickup

    log_pickup(job, pickup(ws, db))
    log_strategy_edits(job, apply_strategy_edits(ws, db))


def orphan_manifest(ws: Workspace, set_name: str) -> dict[str, Any] | None:
    """The manifest of datasets/<set_name> when the set is complete on disk but the catalog
    has no row for it (a build killed between its rename and its insert), else None."""
    folder = ws.datasets_dir / set_name
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        counts = manifest["counts"]
        for split in SPLIT_NAMES:
            with open(folder / f"{split}.jsonl", "rb") as fh:
                if sum(1 for line in fh if line.strip()) != counts[split]:
                    return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if manifest.get("name") != set_name:
        return None
    with ws.catalog() as db:
        known = db.execute("select 1 from datasets where name = ?", [set_name]).fetchone()
    return None if known else manifest


def _adopt(ws: Workspace, set_name: str, manifest: dict[str, Any], job: Job) -> StageResult:
    """Record a complete set the catalog lost (its build was killed after the rename)."""
    target = ws.datasets_dir / set_name
    with ws.catalog() as db:
        db["datasets"].upsert(
            {
                "name": set_name,
                "created_at": manifest.get("created_at"),
                "config_hash": manifest.get("config_hash"),
                "tokenizer": manifest.get("tokenizer"),
                "counts": json.dumps(manifest["counts"]),
                "manifest_sha256": hashlib.sha256(
                    (target / "manifest.json").read_bytes()
                ).hexdigest(),
                "path": str(target),
            },
            pk="name",
        )
    job.log(
        f"dataset '{set_name}' was complete on disk but missing from the catalog (its build "
        "was interrupted); recorded it as built",
        level="warning",
    )
    result = StageResult(
        ok=len(manifest.get("items") or []),
        skipped=[(s["id"], s["reason"]) for s in manifest.get("skipped") or []],
    )
    result.outputs = [target / f"{s}.jsonl" for s in SPLIT_NAMES] + [target / "manifest.json"]
    result.summary = {
        "set": set_name,
        "path": str(target),
        "counts": manifest["counts"],
        "max_tokens": manifest.get("max_tokens"),
        "tokenizer": manifest.get("tokenizer"),
        "token_counts": manifest.get("token_counts") or "approximate",  # older manifests
        "skipped": len(result.skipped),
        "failed": len(manifest.get("failed") or []),
        "adopted": True,
    }
    return result


def _select(
    examples: Sequence[Example],
    counter: TokenCounter,
    project: ProjectConfig,
    limit: int,
    curation: dict[str, tuple[str, str]],
    result: StageResult,
    job: Job,
    set_format: str = "apple",
    splits: SplitState | None = None,
) -> tuple[dict[str, list[str]], list[dict[str, Any]]]:
    """Apply curation and the budget, validate, split: the lines per split and manifest items.
    Skips and failures go into ``result``. Splits come from `assign_stable` over the kept
    examples' split keys (``splits.previous``: what earlier builds of the set recorded; the
    keys assigned now go to ``splits.assigned``), or, when the recipe has its own
    (``splits.own``: fractions and seed), from `assign_split` of each key with those."""
    splits = splits if splits is not None else SplitState({})
    job.set_total(len(examples))
    # rendered once: counted, checked, written
    all_lines = [render_line(ex, set_format) for ex in examples]
    apple_lines = [
        apple_line_of(ex, line, set_format) for ex, line in zip(examples, all_lines, strict=True)
    ]
    counts = counter.count_many(examples, apple_lines=apple_lines)
    fractions = project.splits.model_dump()
    lines: dict[str, list[str]] = {s: [] for s in SPLIT_NAMES}
    items: list[dict[str, Any]] = []
    kept: list[tuple[Example, int, str]] = []
    for ex, count, line in zip(examples, counts, all_lines, strict=True):
        job.check_cancelled()
        verdict = _decide(ex, count.total, count.widget, limit, curation.get(ex.item_id))
        problems = validate_line(line, ex, set_format) if verdict is None else []
        if problems:
            what = "Apple line" if set_format == "apple" else "chat record"
            verdict = ("failed", f"invalid {what}: " + "; ".join(problems))
        if verdict is None:
            kept.append((ex, count.total, line))
        elif verdict[0] == "failed":
            result.failed.append((ex.item_id, verdict[1]))
            job.item_failed(ex.item_id, verdict[1])
        else:
            result.skipped.append((ex.item_id, verdict[1]))
        job.advance(item_id=ex.item_id)
    # A recipe may keep related examples together (readmes: all chunks of one repository).
    weights: dict[str, int] = {}
    for ex, _, _ in kept:
        key = _split_key(ex)
        weights[key] = weights.get(key, 0) + 1
    if splits.limit is not None:
        chosen = _pick(weights, splits.limit, splits.own[1] if splits.own else project.seed)
        splits.left_out = sum(weights.values()) - sum(weights[k] for k in chosen)
        kept = [k for k in kept if _split_key(k[0]) in chosen]
        weights = {k: w for k, w in weights.items() if k in chosen}
    if splits.own is not None:  # the recipe's own files split this way too: never disagree
        fractions, seed = splits.own
        splits.assigned = {k: assign_split(k, fractions, seed) for k in weights}
    else:
        strata = None
        if splits.strata is not None:  # a key's stratum: the category of its first example
            strata = {}
            for ex, _, _ in kept:
                strata.setdefault(_split_key(ex), splits.strata.get(ex.item_id, ""))
        splits.assigned = assign_stable(
            weights, fractions, project.seed, splits.previous, strata=strata
        )
    for ex, total, line in kept:  # candidate order within each split, as before
        split = splits.assigned[_split_key(ex)]
        lines[split].append(line)
        items.append(_manifest_item(ex, split, total, line))
    return lines, items


def _split_key(ex: Example) -> str:
    return str(ex.meta.get("split_key") or ex.item_id)


def _pick(weights: dict[str, int], limit: int, seed: int) -> set[str]:
    """At most ``limit`` examples' split keys, in seeded-hash order; a group (a key with
    several examples) that no longer fits is left out whole."""
    chosen: set[str] = set()
    total = 0
    # Its own hash (salted): the split hash orders keys too, so picking by it would take
    # the keys of one split first.
    for key in sorted(weights, key=lambda k: (bucket(seed, f"limit:{k}"), k)):
        if total + weights[key] <= limit:
            chosen.add(key)
            total += weights[key]
            if total == limit:
                break
    return chosen


@dataclass
class SplitState:
    """How this build splits: the splits recorded for the set before it (``previous``), the
    recipe's own fractions and seed (``own``, see sources/base.recipe_splits), the most
    examples the set may hold (``limit``); what it assigned and how many the limit left out."""

    previous: dict[str, str]
    own: tuple[dict[str, float], int] | None = None
    limit: int | None = None
    assigned: dict[str, str] = field(default_factory=dict)
    left_out: int = 0
    strata: dict[str, str] | None = None  # item id -> category when stratifying


def _stratify(flag: str | None, project: ProjectConfig) -> str | None:
    value = flag if flag is not None else project.stratify
    if value in (None, "", "none"):
        return None
    if value != "category":
        raise ConfigError(f"--stratify: expected category or none, got {value!r}")
    return value


def _category_strata(db: Any, job: Job) -> dict[str, str]:
    from graftwork.core.curate.categories import item_categories

    categories = item_categories(db)
    if categories:
        job.log(
            f"splits stratified by category ({len(set(categories.values()))} categories over "
            f"{len(categories)} widgets; widgets without one form their own group)"
        )
    else:
        job.log(
            "splits stratified by category, but no widget has a category yet "
            "(graftwork teach categories): splitting by the whole set",
            level="warning",
        )
    return categories


def _write_set(
    datasets_dir: Path,
    name: str,
    lines: dict[str, list[str]],
    manifest: dict[str, Any],
    force: bool,
) -> None:
    """Everything into a hidden temp folder (fsynced), then renamed into place."""
    tmp = datasets_dir / f".{name}.tmp-{uuid.uuid4().hex[:12]}"
    tmp.mkdir()
    try:
        for split in SPLIT_NAMES:
            _write_lines(tmp / f"{split}.jsonl", lines[split])
        write_json_fast(tmp / "manifest.json", manifest, "items")  # one item per line
        _fsync_dir(tmp)
        _place(tmp, datasets_dir / name, force)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def _decide(
    ex: Example, total: int, widget: int, limit: int, curated: tuple[str, str] | None
) -> tuple[str, str] | None:
    """None to keep; else ("skipped" | "failed", reason). An exclude decision always wins."""
    decision, note = curated or ("", "")
    suffix = f" ({note})" if note else ""
    if decision == "exclude":
        return "skipped", f"excluded by curation{suffix}"
    if decision == "needs_work":
        return "skipped", f"curation says needs work{suffix}"
    entry = strategy_entry(total, widget, limit)
    if entry["action"] == "exclude":
        if decision == "include":
            return "failed", (
                f"included by curation but over budget: {total} > {limit} tokens "
                f"(over by {entry['over_by']}; widget code {widget} tokens)"
            )
        return "skipped", exceeds_reason(total, limit)
    return None


def _manifest_item(ex: Example, split: str, tokens: int, line: str) -> dict[str, Any]:
    item = {
        "id": ex.item_id,
        "split": split,
        "prompt_sha256": sha256_text(ex.user),
        "code_sha256": sha256_text(ex.assistant),
        "example_sha256": sha256_text(line),
        "tokens": tokens,
    }
    if ex.meta:  # e.g. an imported record's own meta, which exports give back exactly
        item["meta"] = ex.meta
    return item
