"""Apple adapter schema (apple_adapter_schema.md §1-3, §9): validate one JSONL line.

The Apple export is a checked copy of the built lines: what build wrote is already the
toolkit's format, so export only proves every line still follows the rules."""

from __future__ import annotations

import json
from typing import Any

from graftwork.core.dataset.chat_schema import tool_call_problems

ROLES = ("system", "user", "assistant")


class InvalidExample(ValueError):
    """A line breaks the schema; the message is the one-line cause."""


def parse_line(line: str) -> list[dict[str, Any]]:
    """Parse and validate one line; returns the message list."""
    try:
        messages = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InvalidExample(f"not JSON ({exc.msg} at column {exc.colno})") from None
    validate_messages(messages)
    return messages


def _check_tool(tool: Any, n: int) -> None:
    if not isinstance(tool, dict) or tool.get("type") != "function":
        raise InvalidExample(f"tool {n} must be an object with type 'function'")
    fn = tool.get("function")
    if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
        raise InvalidExample(f"tool {n} needs function.name")
    args = fn.get("arguments")
    if not isinstance(args, dict) or args.get("type") != "object":
        if "parameters" in fn:
            raise InvalidExample(f"tool {n} uses OpenAI 'parameters'; Apple's key is 'arguments'")
        raise InvalidExample(f"tool {n} needs function.arguments, a JSON Schema object")


def validate_messages(messages: Any) -> None:
    """Raise InvalidExample naming the first rule the sample breaks (checklist §9)."""
    if not isinstance(messages, list):
        raise InvalidExample(
            f"a line must be a JSON array of messages, got {type(messages).__name__}"
        )
    if not messages:
        raise InvalidExample("no messages")
    if not isinstance(messages[0], dict) or messages[0].get("role") != "system":
        raise InvalidExample("the first message must be the system message")
    previous = None
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            raise InvalidExample(f"message {i} is not an object")
        role = msg.get("role")
        if role in ("tool", "function"):
            # schema §3.3: the toolkit's validator wants each assistant turn right after a
            # user turn, so tool results are written as user messages.
            raise InvalidExample(
                f"message {i} has role {role!r}: Apple's schema takes tool results as user messages"
            )
        if role not in ROLES:
            raise InvalidExample(f"message {i} has role {role!r} (only system, user, assistant)")
        if role == "system" and i != 0:
            raise InvalidExample(f"message {i}: a system message is allowed only first")
        if role == previous:
            raise InvalidExample(f"message {i}: two {role} messages in a row")
        if role == "assistant" and previous != "user":
            raise InvalidExample(f"message {i}: an assistant message must follow a user message")
        content = msg.get("content")
        if not isinstance(content, str):
            raise InvalidExample(f"message {i} ({role}): content must be a string")
        if not content.strip() and not (role == "assistant" and msg.get("tool_calls")):
            raise InvalidExample(f"message {i} ({role}): content is empty")
        if "tool_calls" in msg:
            if role != "assistant":
                raise InvalidExample(f"message {i} ({role}): only an assistant turn has tool_calls")
            problems = tool_call_problems(f"message {i} (assistant)", msg["tool_calls"])
            if problems:  # §3.2: each call names a function; arguments are a JSON object
                raise InvalidExample(problems[0])
        if "tools" in msg:
            if i != 0:
                raise InvalidExample(f"message {i}: tools belong on the first system message only")
            if not isinstance(msg["tools"], list):
                raise InvalidExample("system tools must be an array")
            for n, tool in enumerate(msg["tools"]):
                _check_tool(tool, n)
        previous = role
    if previous != "assistant":
        raise InvalidExample("the last message must be the assistant's")
    if not any(m.get("role") == "user" for m in messages):
        raise InvalidExample("no user message")


def export_line(line: str) -> str:
    """The Apple record for one built line: the line itself, once it is known to be valid."""
    parse_line(line)
    return line
