"""What an evaluation runs on: a split of the run's set, or a suite file.

A split gives the set's held-out examples (the sample stage's reader, item ids and meta from
the manifest). A suite is JSONL, one example a line, in any of these shapes:
- chat: ``{"messages": [..., {"role": "assistant", ...}], "tools": [...]}`` (the last
  assistant turn is the reference);
- Alpaca: ``{"instruction", "input", "output"}`` (output is the reference);
- prompt: ``{"id", "prompt", "system"?, "reference"?}`` (the plan recipe's fixed suite; its
  references are the plan's accepted answers by id).
A line that is none of these is a failure naming file:line; the others are evaluated."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.eval.metrics import Case
from graftwork.core.review.samples import SampleError, load_held_out, to_chat_prompt


@dataclass
class Cases:
    source: str  # split:test | suite:<file name>
    sample_split: str  # the samples rows' split column: the split name, or "suite"
    cases: list[Case] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file:line, cause)
    path: Path | None = None


def manifest_meta(set_dir: Path) -> dict[str, dict[str, Any]]:
    """Item id -> the meta build recorded for it in manifest.json ({} when none)."""
    try:
        manifest = json.loads((set_dir / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    items = manifest.get("items") if isinstance(manifest, dict) else None
    return {
        str(i["id"]): i["meta"]
        for i in (items if isinstance(items, list) else [])
        if isinstance(i, dict) and isinstance(i.get("meta"), dict) and i.get("id")
    }


def split_cases(ws: Workspace, set_name: str, split: str, n: int | None) -> Cases:
    held = load_held_out(ws, set_name, split)
    if n is not None:
        held = held[:n]
    metas = manifest_meta(ws.datasets_dir / set_name)
    out = Cases(f"split:{split}", split)
    for i, h in enumerate(held):
        chat = to_chat_prompt(h.messages, h.tools)
        out.cases.append(
            Case(
                key=f"k{i}",
                item_id=h.item_id,
                prompt=h.prompt,
                messages=chat["messages"],
                tools=chat["tools"],
                reference=h.reference,
                meta=metas.get(h.item_id, {}),
                stored_messages=h.messages,
            )
        )
    return out


def _case(
    rec: Any, key: str, line: int, system: str, references: dict[str, str]
) -> tuple[Case | None, str]:
    """One suite record as a Case, or (None, cause)."""
    if not isinstance(rec, dict):
        return None, "not a JSON object"
    rid = str(rec.get("id") or f"line-{line}")
    meta = {k: v for k, v in rec.items() if k not in ("messages", "tools", "output")}
    if isinstance(rec.get("messages"), list):
        messages = rec["messages"]
        if not messages or not isinstance(messages[-1], dict):
            return None, "empty messages"
        last = messages[-1]
        reference = str(last.get("content") or "") if last.get("role") == "assistant" else ""
        prompt_msgs = messages[:-1] if last.get("role") == "assistant" else messages
        if not any(isinstance(m, dict) and m.get("role") == "user" for m in prompt_msgs):
            return None, "no user message"
        chat = to_chat_prompt(prompt_msgs, rec.get("tools") or [])
    elif isinstance(rec.get("instruction"), str):
        user = rec["instruction"] + (f"\n\n{rec['input']}" if rec.get("input") else "")
        prompt_msgs = ([{"role": "system", "content": system}] if system else []) + [
            {"role": "user", "content": user}
        ]
        reference = str(rec.get("output") or "")
        chat = {"messages": prompt_msgs, "tools": None}
    elif isinstance(rec.get("prompt"), str) and rec["prompt"].strip():
        sys_text = rec.get("system") if rec.get("system") is not None else system
        prompt_msgs = ([{"role": "system", "content": sys_text}] if sys_text else []) + [
            {"role": "user", "content": rec["prompt"]}
        ]
        reference = str(rec.get("reference") or rec.get("answer") or references.get(rid, ""))
        chat = {"messages": prompt_msgs, "tools": None}
    else:
        return None, "neither chat messages, an Alpaca record nor a prompt record"
    user = next(m["content"] for m in reversed(chat["messages"]) if m.get("role") == "user")
    case = Case(key, rid, str(user), chat["messages"], chat["tools"], reference, meta, prompt_msgs)
    return case, ""


def suite_cases(
    path: Path, *, n: int | None, system: str = "", references: dict[str, str] | None = None
) -> Cases:
    if not path.is_file():
        raise SampleError(f"{path}: no such suite file")
    out = Cases(f"suite:{path.name}", "suite", path=path)
    seen: set[str] = set()
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise SampleError(f"{path}: cannot read the suite ({exc})") from None
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        if n is not None and len(out.cases) >= n:
            break
        where = f"{path.name}:{number}"
        try:
            rec = json.loads(line)
        except ValueError as exc:
            out.failed.append((where, f"not JSON ({exc})"))
            continue
        case, cause = _case(rec, f"k{len(out.cases)}", number, system, references or {})
        if case is None:
            out.failed.append((where, cause))
        elif case.item_id in seen:
            out.failed.append((where, f"id {case.item_id!r} appears twice"))
        else:
            seen.add(case.item_id)
            out.cases.append(case)
    if not out.cases:
        raise SampleError(f"{path}: the suite has no usable example")
    return out


def loss_records(cases: list[Case]) -> list[dict[str, Any]]:
    """mlx chat records (prompt + reference answer) of the cases that have a reference."""
    records = []
    for c in cases:
        if not c.reference:
            continue
        rec: dict[str, Any] = {
            "messages": [*c.messages, {"role": "assistant", "content": c.reference}]
        }
        if c.tools:
            rec["tools"] = c.tools
        records.append(rec)
    return records
