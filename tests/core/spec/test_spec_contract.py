"""The response contract: every bad answer is caught by a named rule."""

from __future__ import annotations

import json

import pytest

from graftwork.core.spec.contract import ContractChecker
from graftwork.core.spec.model import Contract, Gating

SCHEMA = {
    "type": "object",
    "required": ["summary", "steps"],
    "additionalProperties": False,
    "properties": {
        "summary": {"type": "string"},
        "steps": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    },
}
GOOD = json.dumps({"summary": "Two relaxed days by the river.", "steps": ["walk", "eat"]})


def checker(**gating: object) -> ContractChecker:
    return ContractChecker(
        Contract(format="json", schema=SCHEMA),
        SCHEMA,
        Gating(min_chars=10, max_chars=200, required_keys=["summary"], **gating),
    )


def rules(check: object) -> list[str]:
    return [p.rule for p in check.problems]  # type: ignore[attr-defined]


def test_a_good_answer_passes_both_modes_and_fences_are_removed() -> None:
    check = checker().check(f"```json\n{GOOD}\n```")
    assert check.problems == [] and check.parse_ok and check.schema_ok
    assert check.text == GOOD and check.parsed["steps"] == ["walk", "eat"]
    assert check.passes("strict")


@pytest.mark.parametrize(
    ("text", "kwargs", "rule"),
    [
        ("Here are some tips: walk around.", {}, "parse"),
        (json.dumps({"summary": "x" * 20, "steps": []}), {}, "schema"),
        (json.dumps({"summary": "", "steps": ["a"]}), {}, "required_keys"),
        ("", {}, "empty"),
        (GOOD[:-1], {"finish_reason": "length"}, "truncated"),
        ("I'm sorry, but I can't help with that.", {}, "refusal"),
        (GOOD, {"refusal": "not allowed"}, "refusal"),
        ("[dry-run] draft for x", {}, "placeholder"),
    ],
)
def test_bad_answers_fail_in_every_mode(text: str, kwargs: dict, rule: str) -> None:
    check = checker().check(text, **kwargs)
    assert rule in rules(check)
    assert not check.passes("lenient")


def test_length_and_sections_only_reject_in_strict_mode() -> None:
    long = json.dumps({"summary": "s" * 300, "steps": ["a"]})
    check = checker().check(long)
    assert rules(check) == ["length"]
    assert check.passes("lenient") and not check.passes("strict")
    text = ContractChecker(Contract(), None, Gating(required_sections=["Steps"]))
    check = text.check("Summary: go early. Nothing else to say here.")
    assert rules(check) == ["sections"] and check.parse_ok is None
    assert text.check("Summary: ok. STEPS: walk, then eat something.").problems == []
