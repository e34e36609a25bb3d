"""The two shapes of a built set's lines and the conversions every reader shares.

`apple`: each line is Apple's adapter schema (a JSON array of messages, tools on the system
message). `chat`: each line is mlx-lm's chat record {"messages": [...], "tools": [...]}, tools
as the source gave them. manifest.json names the format (`format`; sets built before it
existed are `apple`). Exporters, the trainer's data export and `sample` read a line through
`line_example` and render it with `apple_messages` / `mlx_chat_record`.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from graftwork.core.base.jsonfast import dumps
from graftwork.core.dataset.examples import Example

SET_FORMATS = ("apple", "chat")
# tamm's default system text: an Apple sample needs a system message first (schema §2.3)
DEFAULT_SYSTEM = "A conversation between a user and a helpful assistant."


def render_line(ex: Example, set_format: str) -> str:
    """The exact line build writes for ``ex`` (no trailing newline)."""
    if set_format == "apple":
        return ex.apple_line()
    return dumps(_chat_shape(ex))  # = dumps(ex.chat_record()), without copying the messages


def _chat_shape(ex: Example) -> dict[str, Any]:
    return {"messages": ex.messages, "tools": ex.tools} if ex.tools else {"messages": ex.messages}


_CHAT_HEAD = '{"messages": '


def apple_line_of(ex: Example, line: str, set_format: str) -> str:
    """``ex.apple_line()``, given the line render_line wrote for it: without tools (and no
    ``tools`` key on a system message) a chat line is ``{"messages": <the apple line>}``, so
    it is cut out instead of encoded again (build counts tokens on the apple line)."""
    if set_format == "apple":
        return line
    first = ex.messages[0] if ex.messages else None
    if ex.tools or (first is not None and first.get("role") == "system" and "tools" in first):
        return ex.apple_line()
    return line[len(_CHAT_HEAD) : -1]


def validate_line(line: str, ex: Example, set_format: str) -> list[str]:
    """Every problem with a line about to be written; empty when it is valid."""
    if set_format == "apple":
        from graftwork.core.apple.schema import line_problems

        return line_problems(line)
    from graftwork.core.dataset.chat_schema import record_problems

    return record_problems(_chat_shape(ex))  # reads only: no copy of the messages


def read_format(folder: Path) -> str:
    """The set's line format from its manifest.json (`apple` when absent or unreadable)."""
    try:
        fmt = json.loads((folder / "manifest.json").read_text(encoding="utf-8")).get("format")
    except (OSError, ValueError, AttributeError):
        return "apple"
    return fmt if fmt in SET_FORMATS else "apple"


def manifest_index(folder: Path) -> tuple[dict[str, str], dict[str, list[str]]]:
    """(example sha256 -> item id, split -> ids in manifest order) from the set's
    manifest.json as build writes it; a missing or unreadable manifest gives empty maps."""
    try:
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}, {}
    by_sha: dict[str, str] = {}
    by_split: dict[str, list[str]] = {}
    items = manifest.get("items") if isinstance(manifest, dict) else None
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("id"), str) and item["id"]:
            if item.get("example_sha256"):
                by_sha[str(item["example_sha256"])] = item["id"]
            by_split.setdefault(str(item.get("split")), []).append(item["id"])
    return by_sha, by_split


def line_example(
    line: str, set_format: str, item_id: str = "", meta: dict[str, Any] | None = None
) -> Example:
    """One built line as an Example; raises ValueError naming what is wrong."""
    data = json.loads(line)
    if set_format == "apple":
        if not isinstance(data, list) or not all(isinstance(m, dict) for m in data):
            raise ValueError("not an Apple sample (a JSON array of message objects)")
        messages = [dict(m) for m in data]
        tools = (
            messages[0].pop("tools", []) if messages and messages[0].get("role") == "system" else []
        )
        return Example(item_id, messages, tools or [], dict(meta or {}))
    if not isinstance(data, dict) or not isinstance(data.get("messages"), list):
        raise ValueError('not a chat record ({"messages": [...]})')
    return Example(item_id, data["messages"], data.get("tools") or [], dict(meta or {}))


# ---- tool shapes --------------------------------------------------------------------------
def tool_to_openai(tool: dict[str, Any]) -> dict[str, Any]:
    """OpenAI / mlx-lm shape: the JSON Schema under `function.parameters`."""
    fn = dict(tool["function"])
    if "arguments" in fn and "parameters" not in fn:
        fn["parameters"] = fn.pop("arguments")
    return {**tool, "type": tool.get("type", "function"), "function": fn}


def tool_to_apple(tool: dict[str, Any]) -> dict[str, Any]:
    """Apple's shape: the JSON Schema under `function.arguments`."""
    fn = dict(tool["function"])
    if "parameters" in fn and "arguments" not in fn:
        fn["arguments"] = fn.pop("parameters")
    return {"type": tool.get("type", "function"), "function": fn}


# ---- renderings for readers ---------------------------------------------------------------
def apple_messages(ex: Example) -> list[dict[str, Any]]:
    """Apple's schema for any example: a system message first (tamm's default text when the
    example has none), tools on it in Apple's shape, tool results as user turns (schema §3.3),
    an assistant content of null as ""."""
    messages: list[dict[str, Any]] = []
    for msg in ex.messages:
        msg = dict(msg)
        if msg.get("role") in ("tool", "function"):
            content = msg.get("content")
            text = content if isinstance(content, str) else json.dumps(content, ensure_ascii=False)
            msg = {"role": "user", "content": text}
        elif msg.get("role") == "assistant" and msg.get("content") is None:
            msg["content"] = ""
        messages.append(msg)
    if not messages or messages[0].get("role") != "system":
        messages.insert(0, {"role": "system", "content": DEFAULT_SYSTEM})
    tools = [tool_to_apple(t) for t in ex.tools]
    return Example(ex.item_id, messages, tools, ex.meta).apple_messages()


def mlx_chat_record(ex: Example) -> dict[str, Any]:
    """mlx-lm's chat record: the messages as they are, tools in OpenAI's shape."""
    record: dict[str, Any] = {"messages": copy.deepcopy(ex.messages)}
    if ex.tools:
        record["tools"] = [tool_to_openai(t) for t in ex.tools]
    return record


def mlx_chat_line(line: str, set_format: str) -> str:
    """One built line as mlx-lm chat data (the trainer's data export); raises ValueError."""
    if set_format == "apple":
        from graftwork.core.dataset.exporters.mlx_chat import export_line

        return export_line(line)
    from graftwork.core.dataset.chat_schema import record_problems

    record = mlx_chat_record(line_example(line, set_format))
    problems = record_problems(record)
    if problems:
        raise ValueError("; ".join(problems))
    return json.dumps(record, ensure_ascii=False)
