"""One training example, source-neutral: chat messages (system/user/assistant, optionally
`tool` results and assistant `tool_calls`), the tools offered, and free-form meta.

Every recipe produces these; budget, curation, build, export, train, sample and review work on
them without knowing where they came from. `apple_line()` is exactly the JSONL line `build`
writes for a set in Apple's adapter schema (a JSON array: system message carrying `tools`,
then the turns).

Tools are kept in the shape their source gave (Apple's `function.arguments` or OpenAI's
`function.parameters`); each exporter converts to its own shape.

Alpaca mapping (lossless): instruction/input/output <-> user/assistant, with the original
instruction and input kept in ``meta["alpaca"]`` so an unedited example exports exactly what
was imported (see `alpaca_fields`).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from graftwork.core.base.jsonfast import dumps

OWN_META_KEY = "record"  # meta["record"]: an imported record's own meta, exported exactly
ALPACA_JOIN = "\n\n"  # user turn = instruction + ALPACA_JOIN + input (when input is not empty)


@dataclass(frozen=True)
class Example:
    item_id: str
    messages: list[dict[str, Any]] = field(hash=False)
    tools: list[dict[str, Any]] = field(default_factory=list, hash=False)
    meta: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)

    # -- the turns ----------------------------------------------------------------------
    def _last(self, role: str) -> str:
        for msg in reversed(self.messages):
            if msg.get("role") == role:
                content = msg.get("content")
                return content if type(content) is str else str(content or "")
        return ""

    @property
    def system(self) -> str:
        first = self.messages[0] if self.messages else {}
        return str(first.get("content") or "") if first.get("role") == "system" else ""

    @property
    def user(self) -> str:
        """The last user turn: what the Prompt pane edits and what `prompts` revisions hold."""
        return self._last("user")

    @property
    def assistant(self) -> str:
        """The last assistant turn: the training target (for widgets, the code)."""
        return self._last("assistant")

    def with_user(self, text: str) -> Example:
        """The same example with its last user turn replaced (a prompt revision)."""
        msgs = [dict(m) for m in self.messages]
        for msg in reversed(msgs):
            if msg.get("role") == "user":
                msg["content"] = text
                break
        return Example(self.item_id, msgs, self.tools, self.meta)

    # -- renderings ---------------------------------------------------------------------
    def apple_messages(self) -> list[dict[str, Any]]:
        """Apple's schema: tools ride on the first (system) message."""
        out = [dict(m) for m in self.messages]
        if out and out[0].get("role") == "system" and (self.tools or "tools" in out[0]):
            out[0] = {"role": "system", "content": out[0].get("content", ""), "tools": self.tools}
        return out

    def apple_line(self) -> str:
        """The exact JSONL line build writes for an Apple-format set (no trailing newline)."""
        return dumps(self.apple_messages())

    def chat_record(self) -> dict[str, Any]:
        """mlx-lm / OpenAI chat shape, tools as given: {"messages": [...], "tools": [...]}."""
        record: dict[str, Any] = {"messages": [dict(m) for m in self.messages]}
        if self.tools:
            record["tools"] = self.tools
        return record

    def sha256(self) -> str:
        return hashlib.sha256(self.apple_line().encode("utf-8")).hexdigest()

    def parts(self) -> dict[str, str]:
        """Text of each part, for the per-part token breakdown (structure = total - parts)."""
        return {
            "system": self.system,
            "tools": json.dumps(self.tools, ensure_ascii=False),
            "user": self.user,
            "assistant": self.assistant,
        }

    def alpaca_fields(self) -> dict[str, str]:
        """instruction/input/output. An imported Alpaca record whose user turn was not edited
        gives back its own instruction and input; otherwise the last user turn is the
        instruction and earlier turns become the input."""
        orig = self.meta.get("alpaca") if isinstance(self.meta.get("alpaca"), dict) else None
        if orig is not None and alpaca_user(orig.get("instruction", ""), orig.get("input", "")) == (
            self.user
        ):
            return {
                "instruction": orig["instruction"],
                "input": orig.get("input", ""),
                "output": self.assistant,
            }
        turns = [m for m in self.messages if m.get("role") in ("user", "assistant")]
        last_user = max((i for i, m in enumerate(turns) if m["role"] == "user"), default=-1)
        context = ALPACA_JOIN.join(
            f"{m['role']}: {m.get('content') or ''}" for m in turns[:last_user]
        )
        return {
            "instruction": self.user,
            "input": context if last_user > 0 else "",
            "output": self.assistant,
        }


def alpaca_user(instruction: str, input_: str) -> str:
    return f"{instruction}{ALPACA_JOIN}{input_}" if input_ else instruction


def make_example(
    item_id: str,
    system: str,
    tool: dict[str, Any] | None,
    user: str,
    assistant: str,
    meta: dict[str, Any] | None = None,
) -> Example:
    """system + user + assistant (the Übersicht shape). Apple's preprocessor rejects
    leading/trailing blanks in places; trim every content."""
    messages = [
        {"role": "system", "content": system.strip()},
        {"role": "user", "content": user.strip()},
        {"role": "assistant", "content": assistant.strip()},
    ]
    return Example(item_id, messages, [tool] if tool else [], dict(meta or {}))


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
