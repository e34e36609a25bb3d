"""Export a built set (datasets/NAME/{train,valid,test}.jsonl, in Apple's schema or mlx-lm's
chat shape as its manifest says) to a training format: `apple` (for an Apple set, a checked
copy), `mlx-chat` (mlx-lm chat data) or `alpaca`.

Each split becomes one file in the output folder (default datasets/NAME/export/<format>/),
written atomically. A line that cannot be converted is an item failure: reported with its
cause, left out, and the export goes on."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from graftwork.core.base.atomic import atomic_writer, write_json, write_text
from graftwork.core.base.errors import ConfigError, GraftworkError
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset import sets
from graftwork.core.dataset.examples import sha256_text
from graftwork.core.dataset.exporters import alpaca, apple, mlx_chat
from graftwork.core.dataset.splits import SPLIT_NAMES

FORMATS: dict[str, str] = {
    "apple": "Apple adapter toolkit: each line a JSON array of messages (a checked copy)",
    "mlx-chat": 'mlx-lm chat data: {"messages": [...], "tools": [...]} with OpenAI `parameters`',
    "alpaca": "Alpaca: instruction, input, output, meta (validated with a draft-07 JSON Schema)",
}


class SetNotFound(GraftworkError):
    """The named set was never built (a usage error: exit code 2)."""

    exit_code = 2


def set_dir(ws: Workspace, set_name: str) -> Path:
    if not set_name or "/" in set_name or "\\" in set_name or set_name in (".", ".."):
        raise SetNotFound(f"invalid set name {set_name!r}")
    folder = ws.datasets_dir / set_name
    if not (folder / "train.jsonl").is_file():
        known = sorted(p.parent.name for p in ws.datasets_dir.glob("*/train.jsonl"))
        hint = f"known sets: {', '.join(known)}" if known else "no set is built yet"
        raise SetNotFound(
            f"unknown set {set_name!r}: {folder / 'train.jsonl'} does not exist "
            f"(run `graftwork build --set {set_name}`; {hint})"
        )
    return folder


def default_out_dir(ws: Workspace, set_name: str, fmt: str) -> Path:
    return ws.datasets_dir / set_name / "export" / fmt


def _manifest_items(folder: Path) -> list[dict[str, Any]]:
    """Per-item entries of the set's manifest.json, in the list shape build writes; a missing
    or damaged manifest gives none (lines are then named by position)."""
    try:
        data = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return []
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return []
    return [i for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]


def _catalog_lookup(ws: Workspace) -> tuple[dict[str, str], dict[str, str]]:
    """(example sha256 -> item id, item id -> source) from the catalog (migrated: both tables exist)."""
    by_sha: dict[str, str] = {}
    sources: dict[str, str] = {}
    if not ws.db_path.exists():
        return by_sha, sources
    with ws.catalog() as db:
        for row in db.execute("select item_id, example_sha256 from budget").fetchall():
            if row[1]:
                by_sha[row[1]] = row[0]
        for row in db.execute("select id, source from items").fetchall():
            sources[row[0]] = row[1] or "unknown"
    return by_sha, sources


class _Ids:
    """Names the item behind each built line: by content hash (manifest or budget table),
    else by the manifest's order within the split, else by position."""

    def __init__(self, ws: Workspace, folder: Path) -> None:
        self.by_sha, self.sources = _catalog_lookup(ws)
        self.by_split: dict[str, list[str]] = {}  # built once, not per line
        self.meta: dict[str, dict[str, Any]] = {}  # item id -> the example's meta (imports)
        for item in _manifest_items(folder):
            if isinstance(item.get("meta"), dict):
                self.meta[item["id"]] = item["meta"]
            if isinstance(item.get("example_sha256"), str):
                self.by_sha.setdefault(item["example_sha256"], item["id"])
            self.by_split.setdefault(item.get("split"), []).append(item["id"])

    def __call__(self, split: str, index: int, sha: str) -> str:
        if sha in self.by_sha:
            return self.by_sha[sha]
        in_split = self.by_split.get(split, [])
        return in_split[index] if index < len(in_split) else f"{split}-{index + 1:04d}"

    def source(self, item_id: str) -> str:
        return self.sources.get(item_id, "unknown")


Converter = Callable[[str, str, str, str], str]  # (line, split, item id, sha) -> output line


def _converter(fmt: str, ids: _Ids, set_name: str, set_format: str = "apple") -> Converter:
    if set_format == "chat":
        return _chat_converter(fmt, ids, set_name)
    if fmt == "apple":
        return lambda line, split, item_id, sha: apple.export_line(line)
    if fmt == "mlx-chat":
        return lambda line, split, item_id, sha: mlx_chat.export_line(line)
    if fmt == "alpaca":

        def to_alpaca(line: str, split: str, item_id: str, sha: str) -> str:
            record = alpaca.apple_to_alpaca(
                apple.parse_line(line),
                item_id=item_id,
                split=split,
                source=ids.source(item_id),
                set_name=set_name,
                example_sha256=sha,
            )
            return json.dumps(record, ensure_ascii=False)

        return to_alpaca
    raise ConfigError(f"unknown export format {fmt!r} (choose one of: {', '.join(FORMATS)})")


def _chat_converter(fmt: str, ids: _Ids, set_name: str) -> Converter:
    """Lines of a chat set: any example shape (tool results, OpenAI tools, no system turn)."""

    def convert(line: str, split: str, item_id: str, sha: str) -> str:
        ex = sets.line_example(line, "chat", item_id, ids.meta.get(item_id))
        if fmt == "apple":
            messages = sets.apple_messages(ex)
            apple.validate_messages(messages)
            return json.dumps(messages, ensure_ascii=False)
        if fmt == "mlx-chat":
            return json.dumps(sets.mlx_chat_record(ex), ensure_ascii=False)
        record = alpaca.example_to_alpaca(
            ex, split=split, source=ids.source(item_id), set_name=set_name, example_sha256=sha
        )
        return json.dumps(record, ensure_ascii=False)

    return convert


def _system_prompts(lines_by_split: dict[str, list[str]], set_format: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for lines in lines_by_split.values():
        for line in lines:
            try:
                text = sets.line_example(line, set_format).system
            except (ValueError, LookupError, TypeError, AttributeError):
                continue  # broken lines are reported by the conversion itself
            if text:
                found.setdefault(sha256_text(text), text)
    return found


def export_set(
    ws: Workspace, set_name: str, fmt: str, out_dir: Path | None = None, job: Job | None = None
) -> StageResult:
    """Convert every line of every split of ``set_name`` to ``fmt`` under ``out_dir``."""
    if fmt not in FORMATS:
        raise ConfigError(f"unknown export format {fmt!r} (choose one of: {', '.join(FORMATS)})")
    folder = set_dir(ws, set_name)
    out = Path(out_dir) if out_dir is not None else default_out_dir(ws, set_name, fmt)
    if out.resolve() == folder.resolve():
        raise ConfigError(
            f"--out {out} is the set itself; exporting there would replace the built files"
        )
    job = job if job is not None else Job(None, "export")  # callers outside a job (trainer, tests)
    ids = _Ids(ws, folder)
    set_format = sets.read_format(folder)
    convert = _converter(fmt, ids, set_name, set_format)
    result = StageResult()
    lines_by_split: dict[str, list[str]] = {}
    for split in SPLIT_NAMES:
        path = folder / f"{split}.jsonl"
        try:
            text = path.read_text(encoding="utf-8") if path.is_file() else ""
        except UnicodeDecodeError as exc:
            raise GraftworkError(
                f"{path}: not UTF-8 ({exc.reason} at byte {exc.start}); rebuild the set"
            ) from None
        lines_by_split[split] = [ln for ln in text.splitlines() if ln.strip()]
    job.set_total(sum(len(v) for v in lines_by_split.values()))

    counts: dict[str, int] = {}
    for split, lines in lines_by_split.items():
        converted: list[str] = []
        for index, line in enumerate(lines):
            job.check_cancelled()
            sha = sha256_text(line)
            item_id = ids(split, index, sha)
            try:
                converted.append(convert(line, split, item_id, sha))
                result.ok += 1
            except (apple.InvalidExample, ValueError, KeyError, TypeError) as exc:
                cause = f"{split}.jsonl line {index + 1}: {exc}"
                result.failed.append((item_id, cause))
                job.item_failed(item_id, cause)
            job.advance(item_id=item_id)
        counts[split] = len(converted)
        target = out / f"{split}.jsonl"
        if not converted and fmt == "mlx-chat":
            # mlx-lm reads a missing split as empty but fails on an empty file (data[0]).
            target.unlink(missing_ok=True)
            result.skipped.append((split, "no examples in this split; file not written"))
            continue
        with atomic_writer(target) as fh:
            fh.writelines(row + "\n" for row in converted)
        result.outputs.append(target)

    if fmt == "alpaca":
        schema_copy = out / "alpaca.schema.json"
        write_text(schema_copy, alpaca.SCHEMA_PATH.read_text(encoding="utf-8"))
        # Alpaca has no system turn: keep each system prompt once, keyed by meta.system_prompt_sha256.
        prompts = out / "system_prompts.json"
        write_json(prompts, _system_prompts(lines_by_split, set_format))
        result.outputs += [schema_copy, prompts]
    info = out / "export.json"
    write_json(
        info,
        {
            "set": set_name,
            "format": fmt,
            "description": FORMATS[fmt],
            "source": str(folder),
            "counts": counts,
            "failed": [{"id": i, "cause": c} for i, c in result.failed],
        },
    )
    result.outputs.append(info)
    result.summary = {
        "set": set_name,
        "format": fmt,
        "out": str(out),
        "counts": counts,
        "failed": len(result.failed),
    }
    return result
