"""Gating (seed 002): decide whether a teacher result becomes an accepted prompt.

lenient rejects only unusable text (empty, refusal, code dump, absurd length) and notes the
rest; strict also rejects on soft problems and on a critique verdict of "fail" or an
unreadable critique.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

_REFUSAL = re.compile(
    r"\b(I'm sorry|I am sorry|I cannot|I can't help|as an AI( language model)?)\b", re.I
)
_PREAMBLE = re.compile(r"^\s*(sure|certainly|here is|here's|of course)\b", re.I)
_CODE_LINE = re.compile(
    r"^\s*(import\s.+from\s|export\s+(const|default|function)\b|const\s+\w+\s*=|<\w+[^>]*>\s*$)"
)
MIN_HARD, MAX_HARD = 20, 4000
MIN_SOFT, MAX_SOFT = 60, 1500


@dataclass
class Critique:
    verdict: str  # pass | revise | fail | unknown
    issues: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"verdict": self.verdict, "issues": self.issues}


@dataclass
class Verdict:
    passed: bool
    reasons: list[str] = field(default_factory=list)  # why it was rejected
    notes: list[str] = field(default_factory=list)  # soft problems that did not reject it

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "reasons": self.reasons, "notes": self.notes}


def parse_critique(text: str) -> Critique:
    """JSON {"verdict", "issues"}, tolerating code fences and chatter around the object."""
    match = re.search(r"\{.*\}", text, re.S)
    try:
        data = json.loads(match.group(0)) if match else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        return Critique("unknown", [f"unreadable critique: {text.strip()[:200]}"])
    verdict = str(data.get("verdict", "unknown")).lower().strip()
    if verdict not in ("pass", "revise", "fail"):
        verdict = "unknown"
    issues = data.get("issues") or []
    if not isinstance(issues, list):
        issues = [str(issues)]
    return Critique(verdict, [str(i) for i in issues])


def gate(text: str, mode: str, critique: Critique | None = None) -> Verdict:
    hard: list[str] = []
    soft: list[str] = []
    body = text.strip()
    if not body:
        hard.append("empty")
    else:
        if len(body) < MIN_HARD:
            hard.append(f"too short ({len(body)} chars)")
        elif len(body) < MIN_SOFT:
            soft.append(f"short ({len(body)} chars)")
        if len(body) > MAX_HARD:
            hard.append(f"too long ({len(body)} chars)")
        elif len(body) > MAX_SOFT:
            soft.append(f"long ({len(body)} chars)")
        if _REFUSAL.search(body):
            hard.append("reads like a refusal")
        code_lines = sum(1 for line in body.splitlines() if _CODE_LINE.match(line))
        if "```" in body or code_lines >= 2:
            hard.append("contains code")
        if _PREAMBLE.match(body):
            soft.append("starts with a preamble")
    if critique is not None:
        if critique.verdict == "fail":
            soft.append(
                "critique verdict: fail"
                + (f" ({'; '.join(critique.issues[:3])})" if critique.issues else "")
            )
        elif critique.verdict == "unknown":
            soft.append("critique unreadable")
    if mode == "strict":
        reasons = hard + soft
        return Verdict(not reasons, reasons, [])
    return Verdict(not hard, hard, soft)
