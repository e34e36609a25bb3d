"""The analyze stage: scan each downloaded item into the `analysis` table, then write
widget_processing_results.csv (the seed's report).

For each item whose download is ok we find the widget folder inside `downloads/<id>/`
(the `*.widget` directory, else the folder holding the code), classify it (jsx, coffee,
js, none), list its files and read static facts from the code (core/jsx_facts.py).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from graftwork.core.analyze.jsx_facts import extract_facts
from graftwork.core.analyze.report_csv import REPORT_NAME, write_report
from graftwork.core.base.catalog.db import now
from graftwork.core.base.jobs import Job, StageResult, stage_db
from graftwork.core.base.workspace import Workspace
from graftwork.core.sources.uebersicht import jsx_files, load_widget_code

__all__ = ["REPORT_NAME", "analyze", "analyze_item", "find_widget_folder", "write_report"]

CODE_KINDS = ((".jsx", "jsx"), (".coffee", "coffee"), (".js", "js"))
# macOS zip debris: resource forks and Finder files are not part of a widget.
JUNK_DIRS = {"__MACOSX", ".git", "node_modules"}
JUNK_FILES = {".DS_Store", "Thumbs.db"}
MAX_FACT_CHARS = 400_000


def _is_junk(rel: Path) -> bool:
    return (
        any(p in JUNK_DIRS for p in rel.parts[:-1])
        or rel.name in JUNK_FILES
        or rel.name.startswith("._")
    )


def _files(folder: Path) -> list[tuple[str, int]]:
    """(relative posix path, bytes) of every regular file under ``folder``, junk left out."""
    found = []
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_symlink() or not path.is_file() or _is_junk(rel):
            continue
        found.append((rel.as_posix(), path.stat().st_size))
    return sorted(found)


def find_widget_folder(root: Path) -> tuple[Path, list[Path]]:
    """The widget folder inside an extracted download, and every `*.widget` candidate.

    Preference: the shallowest `*.widget` directory holding code; else the shallowest folder
    holding an index.jsx / index.coffee / index.js, else any .jsx, .coffee or .js; else root.
    """
    subdirs = sorted(
        (
            p
            for p in root.rglob("*")
            if p.is_dir() and not p.is_symlink() and not _is_junk(p.relative_to(root) / "x")
        ),
        key=lambda p: (len(p.relative_to(root).parts), p.relative_to(root).as_posix()),
    )
    dirs = [root, *subdirs]

    def has_code(d: Path, recursive: bool) -> bool:
        it = d.rglob("*") if recursive else d.iterdir()
        return any(
            f.is_file()
            and f.suffix in (".jsx", ".coffee", ".js")
            and not _is_junk(f.relative_to(root))
            for f in it
        )

    widgets = [d for d in dirs if d.name.endswith(".widget") and has_code(d, recursive=True)]
    if widgets:
        return widgets[0], widgets
    for suffix, _ in CODE_KINDS:
        for d in dirs:
            if (d / f"index{suffix}").is_file():
                return d, []
    for suffix, _ in CODE_KINDS:
        for d in dirs:
            if any(
                f.suffix == suffix and f.is_file() and not f.name.startswith("._")
                for f in d.iterdir()
            ):
                return d, []
    return root, []


@dataclass
class ItemAnalysis:
    row: dict[str, Any]
    error: str | None = None
    warnings: list[str] = field(default_factory=list)


def _primary_first(files: list[str], suffix: str) -> list[str]:
    """Code files with index.<suffix> first, so its exports win over helper files'."""
    code = [f for f in files if f.endswith(suffix)]
    return sorted(code, key=lambda f: (Path(f).name != f"index{suffix}", f.count("/"), f))


def _empty_row(item_id: str) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "kind": "none",
        "is_jsx": 0,
        "is_coffee": 0,
        "has_js": 0,
        "folder": None,
        "files": "[]",
        "file_count": 0,
        "total_bytes": 0,
        "code_bytes": 0,
        "code_sha256": None,
        "refresh_frequency": None,
        "command": None,
        "styling": None,
        "imports": "[]",
        "facts": "{}",
        "error": None,
        "analyzed_at": now(),
    }


def analyze_item(ws: Workspace, item_id: str, download_path: str | None = None) -> ItemAnalysis:
    """Analyze one downloaded item; never raises for bad input (the row carries the error)."""
    row = _empty_row(item_id)
    root = ws.downloads_dir / item_id
    if not root.is_dir() and download_path:
        alt = Path(download_path)
        alt = alt if alt.is_absolute() else ws.root / alt
        if alt.is_dir():
            root = alt
    if not root.is_dir():
        row["error"] = "download folder missing"
        return ItemAnalysis(row, row["error"])

    folder, candidates = find_widget_folder(root)
    result = ItemAnalysis(row)
    if len(candidates) > 1:
        others = ", ".join(c.relative_to(root).as_posix() for c in candidates[1:4])
        result.warnings.append(
            f"{len(candidates)} widget folders; using {folder.relative_to(root).as_posix()} (also: {others})"
        )
    try:
        row["folder"] = folder.relative_to(ws.downloads_dir).as_posix()
    except ValueError:  # a download stored outside downloads/ (only via downloads.path)
        row["folder"] = folder.as_posix()
    files = _files(folder)
    names = [f for f, _ in files]
    sizes = dict(files)
    row["files"] = json.dumps([{"path": f, "bytes": b} for f, b in files], ensure_ascii=False)
    row["file_count"] = len(files)
    row["total_bytes"] = sum(sizes.values())
    has = {kind: any(f.endswith(suffix) for f in names) for suffix, kind in CODE_KINDS}
    kind = next((k for _, k in CODE_KINDS if has[k]), "none")
    row.update(
        kind=kind, is_jsx=int(has["jsx"]), is_coffee=int(has["coffee"]), has_js=int(has["js"])
    )
    if kind == "none":
        return result

    suffix = f".{kind}"
    if kind == "jsx":
        # Exactly the files build will concatenate (load_widget_code; macOS `._*` twins are
        # left out there too), so a non-UTF-8 file fails here instead of reaching the data.
        names_for_code = [p.relative_to(folder).as_posix() for p in jsx_files(folder)]
    else:
        names_for_code = names
    code_files = _primary_first(names_for_code, suffix)
    row["code_bytes"] = sum((folder / f).stat().st_size for f in code_files)
    texts = []
    for rel in code_files:
        data = (folder / rel).read_bytes()
        try:
            texts.append(data.decode("utf-8"))
        except UnicodeDecodeError as exc:
            if kind != "coffee":  # JSX/JS become training text: refuse rather than guess
                row["error"] = (
                    f"{rel} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
                )
                result.error = row["error"]
                return result
            result.warnings.append(
                f"{rel} is not UTF-8 (offset {exc.start}); read with replacements"
            )
            texts.append(data.decode("utf-8", errors="replace"))
    if kind == "jsx":
        row["code_sha256"] = hashlib.sha256(load_widget_code(folder).encode("utf-8")).hexdigest()
    source = "\n".join(t.lstrip("\ufeff") for t in texts)
    # The scanner runs at about 1 MB/s; the exports it looks for sit near the top of index.*,
    # and a widget this large is far over any token budget anyway.
    facts = extract_facts(source[:MAX_FACT_CHARS], kind)
    if facts.refresh_disabled:
        row["refresh_frequency"] = "false"
    elif facts.refresh_ms is not None:
        row["refresh_frequency"] = str(facts.refresh_ms)
    else:
        row["refresh_frequency"] = facts.refresh_frequency
    row["command"] = facts.command
    row["styling"] = ",".join(facts.styling) or None
    row["imports"] = json.dumps(facts.imports, ensure_ascii=False)
    extras = facts.to_dict()
    extras["code_files"] = code_files
    extras["scan_truncated"] = len(source) > MAX_FACT_CHARS
    extras["widget_folders"] = [c.relative_to(root).as_posix() for c in candidates]
    row["facts"] = json.dumps(extras, ensure_ascii=False)
    return result


def analyze(ws: Workspace, job: Job, db: sqlite_utils.Database | None = None) -> StageResult:
    """Analyze every item whose download is ok, then write the CSV report.

    Uses ``db`` or the job's connection (open one connection per thread).
    """
    db = stage_db(ws, job, db)
    result = StageResult()
    rows = list(
        db.query(
            "SELECT i.id, d.status, d.path FROM items i LEFT JOIN downloads d ON d.item_id = i.id "
            "ORDER BY i.manifest_order, i.id"
        )
    )
    todo = [r for r in rows if r["status"] == "ok"]
    for r in rows:
        if r["status"] != "ok":
            result.skipped.append(
                (r["id"], "not downloaded" if r["status"] is None else f"download {r['status']}")
            )
    job.set_total(len(todo))
    kinds: dict[str, int] = {}
    for r in todo:
        job.check_cancelled()
        item_id = r["id"]
        try:
            res = analyze_item(ws, item_id, r["path"])
        except (
            Exception
        ) as exc:  # an unreadable file or a scanner bug: this item fails, the rest go on
            cause = f"{type(exc).__name__}: {exc}"
            res = ItemAnalysis({**_empty_row(item_id), "error": cause}, cause)
        db["analysis"].upsert(res.row, pk="item_id")
        for w in res.warnings:
            job.log(f"{item_id}: {w}", level="warning", item_id=item_id)
        if res.error:
            result.failed.append((item_id, res.error))
            job.item_failed(item_id, res.error)
        else:
            result.ok += 1
            kinds[res.row["kind"]] = kinds.get(res.row["kind"], 0) + 1
        job.advance(item_id=item_id)
    result.outputs.append(write_report(ws, db))
    result.summary = {
        "analyzed": result.ok,
        "failed": len(result.failed),
        "skipped": len(result.skipped),
        "kinds": kinds,
    }
    return result
