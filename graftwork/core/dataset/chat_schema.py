"""Rules for one chat record (mlx-lm / OpenAI shape: {"messages": [...], "tools": [...]}),
the `chat` set format. Build checks every line of a chat set with them, and `import` checks
every imported record.

Roles: system (first only), user, assistant, tool. An assistant turn may carry `tool_calls`
(each names a function and gives its arguments as a JSON object or a string holding one); a
tool message answers the tool calls before it. The last message is the assistant's.
"""

from __future__ import annotations

import json
from typing import Any

CHAT_ROLES = ("system", "user", "assistant", "tool")


def tool_call_problems(where: str, calls: Any) -> list[str]:
    """Problems with an assistant message's `tool_calls` (shared with the Apple rules)."""
    if not isinstance(calls, list) or not calls:
        return [f"{where}: tool_calls must be a non-empty array"]
    problems = []
    for n, call in enumerate(calls):
        fn = call.get("function") if isinstance(call, dict) else None
        if not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            problems.append(f"{where}: tool_calls[{n}].function.name is missing")
            continue
        args = fn.get("arguments")
        if isinstance(args, str):
            try:
                parsed = json.loads(args)
            except ValueError as exc:
                problems.append(
                    f"{where}: tool_calls[{n}].function.arguments is not JSON ({exc.args[0]})"
                )
                continue
            if not isinstance(parsed, dict):
                problems.append(
                    f"{where}: tool_calls[{n}].function.arguments must hold a JSON object"
                )
        elif not isinstance(args, dict):
            problems.append(
                f"{where}: tool_calls[{n}].function.arguments must be a JSON object or a string"
            )
    return problems


def tool_problems(tools: Any) -> list[str]:
    """Tool definitions in either shape: OpenAI's `parameters` or Apple's `arguments`."""
    if not isinstance(tools, list):
        return ["tools must be an array"]
    problems = []
    for n, tool in enumerate(tools):
        fn = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(tool, dict) or tool.get("type", "function") != "function":
            problems.append(f"tools[{n}] must be an object with type 'function'")
        elif not isinstance(fn, dict) or not isinstance(fn.get("name"), str) or not fn["name"]:
            problems.append(f"tools[{n}].function.name is missing")
        else:
            schema = fn.get("parameters", fn.get("arguments"))
            if schema is not None and not isinstance(schema, dict):
                problems.append(f"tools[{n}].function.parameters must be a JSON Schema object")
    return problems


def messages_problems(messages: Any) -> list[str]:
    if not isinstance(messages, list):
        return [f"messages must be an array, got {type(messages).__name__}"]
    if not messages:
        return ["the conversation is empty (no messages)"]
    problems: list[str] = []
    previous: str | None = None
    roles: list[Any] = []  # of every object message, in order
    for i, msg in enumerate(messages):
        if not isinstance(msg, dict):
            problems.append(f"message {i} is not an object")
            previous = None
            continue
        role = msg.get("role")
        roles.append(role)
        if role not in CHAT_ROLES:
            problems.append(f"message {i}: role {role!r} is not one of {', '.join(CHAT_ROLES)}")
            previous = None
            continue
        content = msg.get("content")
        if (
            type(content) is str
            and content.strip()
            and (
                role == "user"
                or (role == "assistant" and previous != "assistant" and "tool_calls" not in msg)
                or (role == "system" and i == 0)
            )
        ):
            previous = role  # the common case, none of the rules below can apply: skip them
            continue
        where = f"message {i} ({role})"
        calls = msg.get("tool_calls")
        if role == "assistant" and calls is not None:
            problems.extend(tool_call_problems(where, calls))
            if content is not None and not isinstance(content, str):
                problems.append(f"{where}: content must be a string")
        elif not isinstance(content, str):
            problems.append(f"{where}: content must be a string")
        elif not content.strip() and role in ("user", "assistant"):
            problems.append(f"{where}: content is empty")
        if role == "system" and i != 0:
            problems.append(f"{where}: a system message is allowed only first")
        if role == "tool" and previous not in ("assistant", "tool"):
            problems.append(f"{where}: a tool result must follow the assistant's tool call")
        if role == "assistant" and previous == "assistant":
            problems.append(f"{where}: two assistant messages in a row")
        previous = role
    if "user" not in roles:
        problems.append("no user message")
    if roles and roles[-1] != "assistant":
        problems.append(f"the last message must be the assistant's, got {roles[-1]}")
    return problems


def record_problems(record: Any) -> list[str]:
    """Every problem with one chat record; an empty list means it is valid."""
    if not isinstance(record, dict):
        return [f"a chat record must be a JSON object, got {type(record).__name__}"]
    problems = messages_problems(record.get("messages"))
    if "tools" in record:
        problems.extend(tool_problems(record["tools"]))
    return problems
