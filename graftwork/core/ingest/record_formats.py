"""The record formats `graftwork import` reads, each turned into a source-neutral Example.

- alpaca: {"instruction", "input"?, "output", "system"?, "meta"?}; the user turn is
  instruction + "\\n\\n" + input (examples.alpaca_user) and meta["alpaca"] keeps the original
  instruction and input, so the Alpaca export gives them back exactly.
- chat: mlx-lm / OpenAI {"messages", "tools"?, "meta"?, "id"?}; messages and tools kept as given.
- apple: one Apple adapter sample (a JSON array of messages, tools on the system message).
- sharegpt: {"conversations": [{"from", "value"}], "system"?, "tools"?, "id"?, "meta"?}.

A record's own meta (an object) is kept in meta["record"] (examples.OWN_META_KEY) and exported
exactly. Its id is meta.id (or the record's top-level "id" for chat and ShareGPT) when that is
a usable item id. Every problem raises RecordError with a one-line cause.
"""

from __future__ import annotations

import json
import re
from typing import Any, NamedTuple

from graftwork.core.dataset.examples import OWN_META_KEY, alpaca_user

FORMATS = ("alpaca", "chat", "apple", "sharegpt")
ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


class RecordError(ValueError):
    """A record that cannot be imported; the message is the cause."""


class Parsed(NamedTuple):
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    meta: dict[str, Any]
    own_id: str | None  # the record's own id when usable


def detect(value: Any) -> str | None:
    """The format a record looks like, or None."""
    if isinstance(value, list):
        return "apple"
    if not isinstance(value, dict):
        return None
    if "messages" in value:
        return "chat"
    if "conversations" in value:
        return "sharegpt"
    if "instruction" in value or "output" in value:
        return "alpaca"
    return None


def parse(fmt: str, value: Any) -> Parsed:
    return _PARSERS[fmt](value)


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def _require_object(value: Any, fmt: str, keys: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise RecordError(f"a {fmt} record must be a JSON object, got {_type_name(value)}")
    extra = sorted(value.keys() - keys)
    if extra:
        raise RecordError(
            f"unknown key(s) {', '.join(map(repr, extra))} (a {fmt} record has {', '.join(keys)})"
        )
    return value


def _string(record: dict[str, Any], key: str, *, required: bool, empty_ok: bool = False) -> str:
    if key not in record:
        if required:
            raise RecordError(f"missing '{key}'")
        return ""
    value = record[key]
    if not isinstance(value, str):
        raise RecordError(f"'{key}' must be a string, got {_type_name(value)}")
    if not empty_ok and not value.strip():
        raise RecordError(f"'{key}' is empty")
    return value


def _own_meta(record: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    """(the example meta holding the record's own meta, the id it names)."""
    if "meta" not in record:
        return {}, None
    own = record["meta"]
    if not isinstance(own, dict):
        raise RecordError(f"'meta' must be an object, got {_type_name(own)}")
    return {OWN_META_KEY: own}, usable_id(own.get("id"))


def usable_id(value: Any) -> str | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        value = str(value)
    if isinstance(value, str) and ITEM_ID.match(value) and ".." not in value:
        return value
    return None


def _check_chat(messages: Any, tools: Any) -> None:
    from graftwork.core.dataset.chat_schema import messages_problems, tool_problems

    problems = messages_problems(messages)
    if tools is not None:
        problems += tool_problems(tools)
    if problems:
        raise RecordError("; ".join(problems))


def _alpaca(value: Any) -> Parsed:
    record = _require_object(value, "alpaca", ("instruction", "input", "output", "system", "meta"))
    instruction = _string(record, "instruction", required=True)
    input_ = _string(record, "input", required=False, empty_ok=True)
    output = _string(record, "output", required=True)
    meta, own_id = _own_meta(record)
    messages = [
        {"role": "user", "content": alpaca_user(instruction, input_)},
        {"role": "assistant", "content": output},
    ]
    if "system" in record:
        messages.insert(0, {"role": "system", "content": _string(record, "system", required=True)})
    meta["alpaca"] = {"instruction": instruction, "input": input_}
    return Parsed(messages, [], meta, own_id)


def _chat(value: Any) -> Parsed:
    record = _require_object(value, "chat", ("messages", "tools", "meta", "id"))
    if "messages" not in record:
        raise RecordError("missing 'messages'")
    tools = record.get("tools")
    _check_chat(record["messages"], tools)
    meta, own_id = _own_meta(record)
    return Parsed(record["messages"], tools or [], meta, own_id or usable_id(record.get("id")))


def _apple(value: Any) -> Parsed:
    from graftwork.core.apple.schema import sample_problems

    problems = sample_problems(value)
    if problems:
        raise RecordError("not an Apple sample: " + "; ".join(problems))
    messages = [dict(m) for m in value]
    tools = messages[0].pop("tools", [])
    return Parsed(messages, tools, {}, None)


_SHAREGPT_ROLES = {
    "system": "system",
    "human": "user",
    "user": "user",
    "gpt": "assistant",
    "assistant": "assistant",
    "model": "assistant",
    "tool": "tool",
    "observation": "tool",
    "function_response": "tool",
}


def _sharegpt(value: Any) -> Parsed:
    record = _require_object(value, "sharegpt", ("conversations", "system", "tools", "id", "meta"))
    turns = record.get("conversations")
    if "conversations" not in record:
        raise RecordError("missing 'conversations'")
    if not isinstance(turns, list):
        raise RecordError(f"'conversations' must be an array, got {_type_name(turns)}")
    messages: list[dict[str, Any]] = []
    if "system" in record:
        messages.append({"role": "system", "content": _string(record, "system", required=True)})
    for n, turn in enumerate(turns):
        if not isinstance(turn, dict) or not isinstance(turn.get("from"), str):
            raise RecordError(f"conversations[{n}] must be an object with 'from' and 'value'")
        text = turn.get("value")
        if not isinstance(text, str):
            raise RecordError(f"conversations[{n}].value must be a string, got {_type_name(text)}")
        who = turn["from"]
        if who == "function_call":  # an assistant tool call: {"name", "arguments"} as JSON
            try:
                call = json.loads(text)
            except ValueError as exc:
                raise RecordError(f"conversations[{n}]: tool call is not JSON ({exc})") from None
            if not isinstance(call, dict) or not isinstance(call.get("name"), str):
                raise RecordError(f"conversations[{n}]: a tool call needs a name")
            args = call.get("arguments", {})
            messages.append(
                {
                    "role": "assistant",
                    "content": "",
                    "tool_calls": [{"function": {"name": call["name"], "arguments": args}}],
                }
            )
        elif who in _SHAREGPT_ROLES:
            messages.append({"role": _SHAREGPT_ROLES[who], "content": text})
        else:
            raise RecordError(f"conversations[{n}]: unknown speaker {who!r}")
    tools = record.get("tools")
    if isinstance(tools, str):  # ShareGPT often carries tools as a JSON string
        try:
            tools = json.loads(tools)
        except ValueError as exc:
            raise RecordError(f"'tools' is a string but not JSON ({exc})") from None
    _check_chat(messages, tools)
    meta, own_id = _own_meta(record)
    return Parsed(messages, tools or [], meta, own_id or usable_id(record.get("id")))


_PARSERS = {"alpaca": _alpaca, "chat": _chat, "apple": _apple, "sharegpt": _sharegpt}
