"""Tool definitions (one JSON Schema per tool) and the tool-call shapes rule buckets write.

A tool_core output is ``{"tool": NAME, "arguments": {...}}`` (the arguments valid against the
tool's schema). A tool_neg output is ``{"mistake", "expected_tool", "call", "explanation"}``,
``call`` being the wrong call as text, wrong in the declared way:

- ``wrong_tool``: parses, names a known tool other than ``expected_tool``;
- ``missing_argument``: parses, names ``expected_tool``, lacks a required argument;
- ``bad_json``: does not parse as JSON.

`check_output` is the one place both the generator and `graftwork validate` judge them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MISTAKES = ("wrong_tool", "missing_argument", "bad_json")
TOOL_CORE_TYPES = frozenset({"tool_core", "tool_call"})
TOOL_NEG_TYPES = frozenset({"tool_neg"})


class ToolsError(ValueError):
    """A tool definitions file that cannot be used; the message names file and cause."""


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    parameters: dict[str, Any]
    validator: Any  # jsonschema validator of ``parameters``

    @property
    def required(self) -> list[str]:
        return list(self.parameters.get("required", []))

    def problems(self, arguments: Any) -> list[str]:
        return [
            f"{'/'.join(str(p) for p in e.path) or 'arguments'}: {e.message[:120]}"
            for e in self.validator.iter_errors(arguments)
        ]


def load_tools(items: Any, where: str) -> dict[str, Tool]:
    """Tools from a list of {name, description, parameters}; every schema checked."""
    from jsonschema import SchemaError
    from jsonschema.validators import validator_for

    if not isinstance(items, list):
        raise ToolsError(f"{where}: tool definitions must be a list of objects")
    tools: dict[str, Tool] = {}
    for pos, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ToolsError(f"{where}: tool #{pos + 1} needs a string 'name'")
        name = item["name"]
        params = item.get("parameters", {"type": "object", "properties": {}})
        if not isinstance(params, dict):
            raise ToolsError(f"{where}: tool {name}: 'parameters' must be a JSON Schema object")
        try:
            cls = validator_for(params)
            cls.check_schema(params)
        except SchemaError as exc:
            at = "/".join(str(p) for p in exc.absolute_path) or "(top level)"
            raise ToolsError(
                f"{where}: tool {name}: not a valid JSON Schema at {at}: {exc.message}"
            ) from None
        if name in tools:
            raise ToolsError(f"{where}: tool {name} is defined twice")
        tools[name] = Tool(name, str(item.get("description", "")), params, cls(params))
    if not tools:
        raise ToolsError(f"{where}: no tools defined")
    return tools


def read_tools(path: Path) -> dict[str, Tool]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ToolsError(f"{path}: tool definitions file not found") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ToolsError(f"{path}: not a JSON file: {exc}") from None
    return load_tools(data, str(path))


def default_tools_path() -> Path:
    from graftwork.core.base.config import configs_dir

    return configs_dir() / "tools" / "continue_tools.json"


def call_text(tool: str, arguments: dict[str, Any]) -> str:
    return json.dumps({"tool": tool, "arguments": arguments}, ensure_ascii=False)


def check_output(task_type: str, output: str, tools: dict[str, Tool]) -> str | None:
    """None when a tool record's output is what its task type promises, else the cause."""
    try:
        value = json.loads(output)
    except json.JSONDecodeError as exc:
        return f"output is not JSON ({exc.msg} at column {exc.colno})"
    if not isinstance(value, dict):
        return "output must be a JSON object"
    if task_type in TOOL_CORE_TYPES:
        return _check_call(value, tools)
    mistake, expected, call = value.get("mistake"), value.get("expected_tool"), value.get("call")
    if mistake not in MISTAKES:
        return f"tool_neg output needs 'mistake', one of {', '.join(MISTAKES)}"
    if not isinstance(call, str) or expected not in tools:
        return "tool_neg output needs 'call' (text) and 'expected_tool' (a known tool)"
    if not str(value.get("explanation", "")).strip():
        return "tool_neg output has no explanation"
    try:
        wrong = json.loads(call)
    except json.JSONDecodeError:
        return None if mistake == "bad_json" else f"declared {mistake}, but the call is not JSON"
    if mistake == "bad_json":
        return "declared bad_json, but the call parses"
    if not isinstance(wrong, dict) or wrong.get("tool") not in tools:
        return f"declared {mistake}, but the call names no known tool"
    if mistake == "wrong_tool":
        return (
            None if wrong["tool"] != expected else "declared wrong_tool, but it is the expected one"
        )
    args = wrong.get("arguments")
    if wrong["tool"] != expected or not isinstance(args, dict):
        return "declared missing_argument, but the call is not to the expected tool"
    if any(r not in args for r in tools[expected].required):
        return None
    return "declared missing_argument, but every required argument is there"


def _check_call(value: dict[str, Any], tools: dict[str, Tool]) -> str | None:
    name = value.get("tool")
    if name not in tools:
        return f"unknown tool {name!r}"
    problems = tools[name].problems(value.get("arguments"))
    return f"{name}: {'; '.join(problems[:3])}" if problems else None
