"""One complete training example, rendered exactly as `build` writes it (Apple adapter schema:
each JSONL line is an array: system message with `tools`, user, assistant)."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Example:
    item_id: str
    system: str
    tools: list[dict[str, Any]] = field(hash=False)
    user: str
    assistant: str

    def apple_messages(self) -> list[dict[str, Any]]:
        return [
            {"role": "system", "content": self.system, "tools": self.tools},
            {"role": "user", "content": self.user},
            {"role": "assistant", "content": self.assistant},
        ]

    def apple_line(self) -> str:
        """The exact JSONL line build writes (no trailing newline)."""
        return json.dumps(self.apple_messages(), ensure_ascii=False)

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


def make_example(
    item_id: str, system: str, tool: dict[str, Any], user: str, assistant: str
) -> Example:
    # Apple's preprocessor rejects leading/trailing blanks in places; trim every content.
    return Example(item_id, system.strip(), [tool], user.strip(), assistant.strip())


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
