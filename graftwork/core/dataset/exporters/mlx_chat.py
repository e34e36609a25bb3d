"""mlx-lm chat data: one `{"messages": [...], "tools": [...]}` object per line.

mlx-lm passes `tools` to the tokenizer's chat template, which expects OpenAI's shape: the
JSON Schema of a tool sits under `function.parameters`, while Apple spells it `arguments`
and keeps the tools on the system message. Tool *calls* use `arguments` in both worlds."""

from __future__ import annotations

import copy
import json
from typing import Any

from graftwork.core.dataset.exporters.apple import validate_messages


def tool_to_openai(tool: dict[str, Any]) -> dict[str, Any]:
    fn = dict(tool["function"])
    fn["parameters"] = fn.pop("arguments")
    return {"type": "function", "function": fn}


def apple_to_mlx_chat(messages: list[dict[str, Any]]) -> dict[str, Any]:
    """Convert one Apple sample (a validated message list) to an mlx-lm chat record."""
    validate_messages(messages)
    out: list[dict[str, Any]] = []
    tools: list[dict[str, Any]] = []
    for msg in copy.deepcopy(messages):
        if msg["role"] == "system" and "tools" in msg:
            tools = [tool_to_openai(t) for t in msg.pop("tools")]
        for call in msg.get("tool_calls") or ():
            call.setdefault("type", "function")
        out.append(msg)
    record: dict[str, Any] = {"messages": out}
    if tools:
        record["tools"] = tools
    return record


def export_line(line: str) -> str:
    return json.dumps(apple_to_mlx_chat(json.loads(line)), ensure_ascii=False)
