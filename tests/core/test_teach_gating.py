"""Lenient and strict gating, and reading critiques."""

from __future__ import annotations

from graftwork.core.teach.gating import Critique, gate, parse_critique

GOOD = (
    "Create an Übersicht widget that shows the battery level in the top-right corner as a "
    "thin bar, refreshing every minute."
)


def test_good_text_passes_both_modes() -> None:
    assert gate(GOOD, "lenient").passed and gate(GOOD, "strict").passed


def test_hard_failures_reject_in_both_modes() -> None:
    for text, reason in [
        ("", "empty"),
        ("Too short.", "too short"),
        ("I'm sorry, I cannot help with that request about widgets today.", "refusal"),
        ("Use this:\n```jsx\nexport const command = 'date'\n```", "contains code"),
        ("x" * 5000, "too long"),
    ]:
        for mode in ("lenient", "strict"):
            verdict = gate(text, mode)
            assert not verdict.passed and any(reason in r for r in verdict.reasons), (
                text[:20],
                mode,
            )


def test_soft_problems_are_notes_when_lenient_and_reasons_when_strict() -> None:
    text = "Sure! A widget with the date."
    lenient, strict = gate(text, "lenient"), gate(text, "strict")
    assert lenient.passed and {"short (29 chars)", "starts with a preamble"} <= set(lenient.notes)
    assert not strict.passed and "starts with a preamble" in strict.reasons


def test_critique_verdicts() -> None:
    fail = Critique("fail", ["invents a weather API"])
    assert gate(GOOD, "lenient", fail).passed
    verdict = gate(GOOD, "strict", fail)
    assert not verdict.passed and "invents a weather API" in verdict.reasons[0]


def test_parse_critique_tolerates_fences_and_chatter() -> None:
    c = parse_critique('Here you go:\n```json\n{"verdict": "Revise", "issues": ["vague"]}\n```')
    assert (c.verdict, c.issues) == ("revise", ["vague"])
    assert parse_critique("looks fine to me").verdict == "unknown"
    assert parse_critique('{"verdict": "maybe", "issues": "one"}').as_dict() == {
        "verdict": "unknown",
        "issues": ["one"],
    }
