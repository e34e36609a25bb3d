"""Markdown pieces shared by the reports (review export, eval reports)."""

from __future__ import annotations

import re


def fence(text: str | None, lang: str = "jsx") -> str:
    """A code block whose fence is longer than any backtick run inside (an answer that holds
    its own ``` block stays one block)."""
    text = text or ""
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    ticks = "`" * max(3, longest + 1)
    return f"{ticks}{lang}\n{text.rstrip()}\n{ticks}"


def cell(text: str) -> str:
    """Text safe inside a table cell."""
    return text.replace("|", r"\|").replace("\n", " ")
