"""Check an answer against a spec's response contract and gating rules.

Each problem names its rule, so stats and reports can count them: ``placeholder``,
``empty``, ``truncated``, ``refusal``, ``parse``, ``schema``, ``required_keys`` (hard: any
gating mode rejects) and ``length``, ``sections`` (soft: only strict gating rejects).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from graftwork.core.spec.model import Contract, Gating

HARD_RULES = ("placeholder", "empty", "truncated", "refusal", "parse", "schema", "required_keys")
SOFT_RULES = ("length", "sections")
DRY_RUN_MARK = "[dry-run]"
_REFUSAL = re.compile(
    r"^\W*(I'm sorry|I am sorry|I cannot|I can't|I can not|I won't|as an AI( language model)?)\b",
    re.I,
)
_FENCE = re.compile(r"^\s*```[\w-]*\s*\n(.*?)\n\s*```\s*$", re.S)


@dataclass
class Problem:
    rule: str
    message: str

    @property
    def hard(self) -> bool:
        return self.rule in HARD_RULES

    def __str__(self) -> str:
        return f"{self.rule}: {self.message}"


@dataclass
class AnswerCheck:
    text: str  # the answer as it would be stored (code fences around JSON removed)
    parsed: Any = None
    parse_ok: bool | None = None  # None: the contract is free text
    schema_ok: bool | None = None  # None: no schema (or nothing parsed)
    problems: list[Problem] = field(default_factory=list)

    @property
    def hard(self) -> list[Problem]:
        return [p for p in self.problems if p.hard]

    @property
    def soft(self) -> list[Problem]:
        return [p for p in self.problems if not p.hard]

    def passes(self, mode: str) -> bool:
        return not self.hard and (mode != "strict" or not self.soft)


def strip_fences(text: str) -> str:
    match = _FENCE.match(text)
    return match.group(1) if match else text


def _present(value: Any, path: str) -> bool:
    for part in path.split("."):
        if not isinstance(value, dict) or part not in value:
            return False
        value = value[part]
    return value not in (None, "", [], {})


class ContractChecker:
    def __init__(self, contract: Contract, schema: dict[str, Any] | None, gating: Gating) -> None:
        self.contract = contract
        self.gating = gating
        self.validator = None
        if schema is not None:
            from jsonschema.validators import validator_for

            self.validator = validator_for(schema)(schema)

    @property
    def wants_json(self) -> bool:
        return self.contract.format == "json"

    def check(
        self,
        text: str | None,
        *,
        finish_reason: str | None = None,
        refusal: str | None = None,
        placeholder: bool = False,
    ) -> AnswerCheck:
        body = (text or "").strip()
        out = AnswerCheck(strip_fences(body).strip() if self.wants_json else body)
        add = out.problems.append
        if placeholder or body.startswith(DRY_RUN_MARK):
            add(Problem("placeholder", "dry-run placeholder, not a teacher answer"))
        if refusal:
            add(Problem("refusal", f"the teacher refused: {refusal.strip()[:120]}"))
        if not body:
            add(Problem("empty", "the answer is empty"))
            return out
        if finish_reason == "length":
            add(Problem("truncated", "cut off at the token limit (finish_reason length)"))
        if not refusal and _REFUSAL.search(body):
            add(Problem("refusal", f"reads like a refusal: {body[:80]!r}"))
        if self.wants_json:
            self._check_json(out)
        elif self.gating.required_sections:
            low = body.lower()
            missing = [s for s in self.gating.required_sections if s.lower() not in low]
            if missing:
                add(Problem("sections", f"missing section(s): {', '.join(missing)}"))
        n = len(out.text)
        if n < self.gating.min_chars:
            add(Problem("length", f"{n} chars, fewer than {self.gating.min_chars}"))
        if self.gating.max_chars is not None and n > self.gating.max_chars:
            add(Problem("length", f"{n} chars, more than {self.gating.max_chars}"))
        return out

    def _check_json(self, out: AnswerCheck) -> None:
        try:
            out.parsed = json.loads(out.text)
            out.parse_ok = True
        except json.JSONDecodeError as exc:
            out.parse_ok = False
            where = f"line {exc.lineno} column {exc.colno}"
            out.problems.append(Problem("parse", f"not JSON ({exc.msg} at {where})"))
            return
        if self.validator is not None:
            errors = sorted(
                self.validator.iter_errors(out.parsed), key=lambda e: [str(p) for p in e.path]
            )
            out.schema_ok = not errors
            if errors:
                shown = "; ".join(
                    f"{'/'.join(str(p) for p in e.path) or '(top level)'}: {e.message[:120]}"
                    for e in errors[:3]
                )
                more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
                out.problems.append(Problem("schema", shown + more))
        missing = [k for k in self.gating.required_keys if not _present(out.parsed, k)]
        if missing:
            out.problems.append(Problem("required_keys", f"missing or empty: {', '.join(missing)}"))
