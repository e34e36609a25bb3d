"""Mixing a public instruction dataset into a run's training split (seed 001: "merge with
a public dataset", default off here because nothing downloads without being asked).

The source is a local file (JSONL, or a JSON array) of Alpaca records (instruction, input,
output) or chat records ({"messages": [...]}) and works offline; any other value is taken as
a Hugging Face dataset name and loaded with the `datasets` package when it is installed and
the network allows. The first ``size`` usable records are appended to train.jsonl as mlx-lm
chat lines; valid and test stay the set's own. What was mixed is returned for the run's
record (source, records, skipped, sha256 of the added lines)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from graftwork.core.base.atomic import write_text
from graftwork.core.base.errors import GraftworkError
from graftwork.core.dataset.examples import alpaca_user


class MixError(GraftworkError):
    """The public dataset cannot be read (exit code 2: fix the flag or the file)."""

    exit_code = 2


HubLoader = Callable[[str, int], Iterable[dict[str, Any]]]


def to_chat(record: Any) -> dict[str, Any] | None:
    """An Alpaca or chat record as mlx-lm chat; None when it is neither."""
    if not isinstance(record, dict):
        return None
    if isinstance(record.get("messages"), list) and record["messages"]:
        msgs = record["messages"]
        if all(isinstance(m, dict) and isinstance(m.get("content"), str) for m in msgs):
            return {"messages": [{"role": m["role"], "content": m["content"]} for m in msgs]}
        return None
    instruction, output = record.get("instruction"), record.get("output")
    if isinstance(instruction, str) and isinstance(output, str) and instruction.strip():
        user = alpaca_user(instruction, str(record.get("input") or ""))
        return {
            "messages": [
                {"role": "user", "content": user},
                {"role": "assistant", "content": output},
            ]
        }
    return None


def _read_local(path: Path) -> Iterable[Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MixError(f"--public-dataset {path}: cannot read ({exc})") from None
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = json.loads(stripped)
        except ValueError as exc:
            raise MixError(f"--public-dataset {path}: not valid JSON ({exc})") from None
        yield from data
        return
    for line in text.splitlines():
        if line.strip():
            try:
                yield json.loads(line)
            except ValueError:
                yield None  # counted as skipped


def hub_loader(name: str, size: int) -> Iterable[dict[str, Any]]:
    try:
        from datasets import load_dataset  # optional; heavy, imported only here
    except ImportError:
        raise MixError(
            f"--public-dataset {name}: not a local file, and the `datasets` package is not "
            "installed to load it from the Hugging Face hub; pass a local JSONL instead"
        ) from None
    try:
        return load_dataset(name, split=f"train[:{size}]")
    except Exception as exc:  # the hub client raises many kinds; one line is enough
        raise MixError(
            f"--public-dataset {name}: cannot load it ({type(exc).__name__}: {exc})"
        ) from None


def mix_public(
    train_path: Path, source: str, size: int, *, load_hub: HubLoader = hub_loader
) -> dict[str, Any]:
    path = Path(source).expanduser()
    records = _read_local(path) if path.exists() else load_hub(source, size)
    lines: list[str] = []
    skipped = 0
    for record in records:
        chat = to_chat(record)
        if chat is None:
            skipped += 1
            continue
        lines.append(json.dumps(chat, ensure_ascii=False))
        if len(lines) >= size:
            break
    if not lines:
        raise MixError(f"--public-dataset {source}: no Alpaca or chat records in it")
    own = train_path.read_text(encoding="utf-8") if train_path.exists() else ""
    if own and not own.endswith("\n"):
        own += "\n"
    added = "".join(line + "\n" for line in lines)
    write_text(train_path, own + added)
    return {
        "source": str(path) if path.exists() else source,
        "requested": size,
        "records": len(lines),
        "skipped": skipped,
        "own_records": sum(1 for ln in own.splitlines() if ln.strip()),
        "sha256": hashlib.sha256(added.encode("utf-8")).hexdigest(),
    }
