"""Prompt templates for the teacher chain (seed 002): draft -> critique -> refine.

The teacher writes the *user request* of a training example: what someone would ask for to
get this widget. Each system message carries a stage marker so logs (and the fake server in
tests) can tell the stages apart.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

DRAFT_SYSTEM = """[stage:draft] You write training data for a model that builds Übersicht desktop widgets \
for macOS (React/JSX). Given one existing widget, write the request a user would type to get \
exactly this widget: what it shows, where and how it looks, how often it refreshes, and any \
shell command or data source it relies on. Write it as the user, in plain prose (2 to 6 \
sentences), specific enough that the code below is a faithful answer. Do not quote code, do \
not use Markdown, do not add a preamble. Reply with the request only."""

CRITIQUE_SYSTEM = """[stage:critique] You review a user request written for a training example \
that pairs the request with an existing Übersicht widget. Check that the request is faithful \
to the widget (nothing invented, nothing important missing), specific, written as a user would \
write it, and free of code. Reply with JSON only, no Markdown: \
{"verdict": "pass" | "revise" | "fail", "issues": ["short issue", ...]}"""

REFINE_SYSTEM = """[stage:refine] You improve a user request written for a training example \
that pairs the request with an existing Übersicht widget. Fix every issue the review lists, \
keep what is right, stay faithful to the widget. Plain prose, 2 to 6 sentences, no code, no \
Markdown, no preamble. Reply with the improved request only."""


@dataclass(frozen=True)
class WidgetContext:
    item_id: str
    name: str
    author: str
    description: str
    facts: dict[str, Any]
    code: str
    code_tokens: int  # tokens of the code as quoted
    code_total_tokens: int  # tokens of the whole code
    truncated: bool

    def render(self) -> str:
        lines = [
            f"Widget: {self.name}",
            f"Author: {self.author or '(unknown)'}",
            f"Description: {self.description.strip() or '(none)'}",
            "Facts from analysis:",
        ]
        for key, value in self.facts.items():
            if value in (None, "", [], {}):
                continue
            shown = (
                value
                if isinstance(value, str)
                else json.dumps(value, ensure_ascii=False, sort_keys=True)
            )
            lines.append(f"- {key}: {shown}")
        note = (
            f"first {self.code_tokens} of {self.code_total_tokens} tokens"
            if self.truncated
            else f"{self.code_total_tokens} tokens"
        )
        lines += [f"Code ({note}):", self.code.rstrip() or "(no code available)"]
        return "\n".join(lines)


def draft_messages(ctx: WidgetContext) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": DRAFT_SYSTEM},
        {"role": "user", "content": ctx.render() + "\n\nWrite the user's request for this widget."},
    ]


def critique_messages(ctx: WidgetContext, draft: str) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": CRITIQUE_SYSTEM},
        {
            "role": "user",
            "content": ctx.render() + f"\n\nRequest to review:\n<<<\n{draft.strip()}\n>>>",
        },
    ]


def refine_messages(ctx: WidgetContext, draft: str, issues: list[str]) -> list[dict[str, str]]:
    listed = "\n".join(f"- {issue}" for issue in issues) or "- (no specific issues; tighten it)"
    return [
        {"role": "system", "content": REFINE_SYSTEM},
        {
            "role": "user",
            "content": ctx.render()
            + f"\n\nRequest:\n<<<\n{draft.strip()}\n>>>\n\nReview issues:\n{listed}\n\nWrite the improved request.",
        },
    ]


def dry_run_reply(stage: str, name: str, user: str = "") -> str:
    """Placeholder replies for dry runs: obviously fake, yet shaped like real ones."""
    if stage == "category":  # the last listed category (the list ends with a catch-all)
        listed = re.search(r"^Categories: (.+)$", user, re.MULTILINE)
        return listed.group(1).split(", ")[-1] if listed else "other"
    if stage == "critique":
        return json.dumps({"verdict": "pass", "issues": ["[dry-run] no teacher was asked"]})
    return (
        f"[dry-run] {stage} placeholder for {name}: no teacher was called. A real run "
        "asks the teacher for the user's request that leads to this widget."
    )
