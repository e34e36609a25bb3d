"""Validator for one line of Apple's adapter training data (apple_adapter_schema.md §2, §3.1,
§4 and the §9 checklist). Build runs it on every line before anything is put in place."""

from __future__ import annotations

import json
from typing import Any

ROLES = ("system", "user", "assistant")
ALLOWED_KEYS = {
    "system": {"role", "content", "tools"},
    "user": {"role", "content", "response_format"},
    "assistant": {"role", "content", "tool_calls"},
}


class AppleSchemaError(ValueError):
    """A line that Apple's toolkit would reject; the message lists every problem."""


def _tool_problems(index: int, tool: Any) -> list[str]:
    where = f"tools[{index}]"
    if not isinstance(tool, dict):
        return [f"{where} is not an object"]
    problems = []
    if tool.get("type") != "function":
        problems.append(f'{where}.type must be "function"')
    fn = tool.get("function")
    if not isinstance(fn, dict):
        return [*problems, f"{where}.function is missing or not an object"]
    if not isinstance(fn.get("name"), str) or not fn["name"].strip():
        problems.append(f"{where}.function.name is missing or empty")
    if "description" in fn and not isinstance(fn["description"], str):
        problems.append(f"{where}.function.description is not a string")
    args = fn.get("arguments")
    if args is None:
        hint = (
            " (Apple's key is 'arguments', not OpenAI's 'parameters')" if "parameters" in fn else ""
        )
        problems.append(f"{where}.function.arguments is missing{hint}")
    elif not isinstance(args, dict) or args.get("type") != "object":
        problems.append(f'{where}.function.arguments must be a JSON Schema with "type": "object"')
    return problems


def _response_format_problems(i: int, rf: Any) -> list[str]:
    if not isinstance(rf, dict) or rf.get("type") != "json_schema":
        return [f'message {i}: response_format.type must be "json_schema"']
    js = rf.get("json_schema")
    if not isinstance(js, dict) or not js.get("name") or not isinstance(js.get("schema"), dict):
        return [f"message {i}: response_format.json_schema needs name and schema"]
    return []


def _message_problems(i: int, msg: Any) -> list[str]:
    if not isinstance(msg, dict):
        return [f"message {i} is not an object"]
    role = msg.get("role")
    if role not in ROLES:
        return [f"message {i}: role {role!r} is not one of system, user, assistant"]
    problems = []
    extra = sorted(set(msg) - ALLOWED_KEYS[role])
    if extra:
        problems.append(f"message {i} ({role}): unexpected key(s) {', '.join(extra)}")
    content = msg.get("content")
    if not isinstance(content, str):
        problems.append(f"message {i} ({role}): content must be a string")
    elif content != content.strip():
        problems.append(f"message {i} ({role}): content has leading or trailing whitespace")
    elif not content and not (role == "assistant" and msg.get("tool_calls")):
        problems.append(f"message {i} ({role}): content is empty")
    if "tools" in msg:
        tools = msg["tools"]
        if i != 0:
            problems.append(f"message {i}: tools are allowed only on the first system message")
        if not isinstance(tools, list) or not tools:
            problems.append(f"message {i}: tools must be a non-empty array")
        else:
            for t_index, tool in enumerate(tools):
                problems.extend(_tool_problems(t_index, tool))
    if "response_format" in msg:
        problems.extend(_response_format_problems(i, msg["response_format"]))
    if "tool_calls" in msg:
        problems.extend(_tool_call_problems(i, msg["tool_calls"]))
    return problems


def _tool_call_problems(i: int, calls: Any) -> list[str]:
    """§3.2: each call names a function and gives its arguments (a JSON object, or a string
    holding one)."""
    from graftwork.core.dataset.chat_schema import tool_call_problems

    return tool_call_problems(f"message {i}", calls)


def line_problems(line: str) -> list[str]:
    """Every problem with one JSONL line; an empty list means the line is valid."""
    if "\n" in line or "\r" in line:
        return ["a line must be one physical line (no raw newlines)"]
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return [f"not valid JSON: {exc.msg} at column {exc.colno}"]
    return sample_problems(data)


def sample_problems(data: Any) -> list[str]:
    """Every problem with one parsed sample (a line's JSON value)."""
    if not isinstance(data, list):
        kind = "an object" if isinstance(data, dict) else type(data).__name__
        return [f"each line must be a JSON array of messages, got {kind}"]
    if not data:
        return ["the message array is empty"]
    problems: list[str] = []
    for i, msg in enumerate(data):
        problems.extend(_message_problems(i, msg))
    if not all(isinstance(m, dict) and m.get("role") in ROLES for m in data):
        return problems  # ordering rules need known roles
    roles = [m["role"] for m in data]
    if roles[0] != "system":
        problems.append("the first message must be system (tools and the instruction live there)")
    if "system" in roles[1:]:
        problems.append(
            f"system message at index {roles.index('system', 1)}: only index 0 may be system"
        )
    for i in range(1, len(roles)):
        if roles[i] == roles[i - 1]:
            problems.append(f"messages {i - 1} and {i} have the same role ({roles[i]})")
        if roles[i] == "assistant" and roles[i - 1] != "user":
            problems.append(
                f"message {i}: an assistant message must directly follow a user message"
            )
    if "assistant" not in roles or "user" not in roles:
        problems.append("a sample needs at least one user -> assistant pair")
    if roles[-1] != "assistant":
        problems.append(f"the last message must be assistant, got {roles[-1]}")
    for i in range(len(data) - 1):  # §4.2: a guided answer is a JSON object string
        if (
            "response_format" in data[i]
            and roles[i + 1] == "assistant"
            and not _is_json_object(data[i + 1]["content"])
        ):
            problems.append(
                f"message {i + 1}: the answer to a response_format must be a JSON object string"
            )
    return problems


def _is_json_object(text: Any) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except (TypeError, ValueError):
        return False


def validate_line(line: str) -> None:
    """Raise AppleSchemaError naming every problem with ``line``."""
    problems = line_problems(line)
    if problems:
        raise AppleSchemaError("; ".join(problems))
