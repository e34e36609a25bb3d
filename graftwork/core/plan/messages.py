"""Teacher messages for the plan recipe: the teacher writes the *answer* (the assistant
turn) to a planned prompt, critiques it, and refines it. Each system message starts with a
stage marker so call logs (and the fake server in tests) tell the stages apart."""

from __future__ import annotations

import json
from typing import Any

from graftwork.core.spec.model import Spec

Messages = list[dict[str, str]]


def contract_text(spec: Spec, schema: dict[str, Any] | None) -> str:
    contract = spec.contract
    if contract.format == "json":
        lines = ["Reply with one JSON object only: no Markdown, no code fences, no text around it."]
        if schema is not None:
            lines.append("It must validate against this JSON Schema:")
            lines.append(json.dumps(schema, ensure_ascii=False, sort_keys=True))
    else:
        lines = ["Reply in plain text."]
    if spec.gating.required_keys:
        lines.append(
            f"These keys must be present and non-empty: {', '.join(spec.gating.required_keys)}."
        )
    if spec.gating.required_sections:
        lines.append(f"Include these sections: {', '.join(spec.gating.required_sections)}.")
    if contract.instructions:
        lines.append(contract.instructions)
    return "\n".join(lines)


def draft_messages(spec: Spec, schema: dict[str, Any] | None, prompt: str) -> Messages:
    system = "\n\n".join(
        part
        for part in (
            "[stage:draft] You write the assistant's answer for one training example.",
            f"The assistant's instructions:\n{spec.system_prompt.strip()}"
            if spec.system_prompt.strip()
            else "",
            contract_text(spec, schema),
            spec.teacher.draft,
        )
        if part
    )
    return [{"role": "system", "content": system}, {"role": "user", "content": prompt}]


CRITIQUE = (
    "[stage:critique] You review an answer written for a training example. Check that it "
    "answers the request correctly and helpfully, invents nothing, and keeps the contract "
    "below. Reply with JSON only, no Markdown: "
    '{"verdict": "pass" | "revise" | "fail", "issues": ["short issue", ...]}'
)

REFINE = (
    "[stage:refine] You improve an answer written for a training example. Fix every issue "
    "listed, keep what is right, and keep the contract below. Reply with the improved answer "
    "only."
)


def _review_user(prompt: str, answer: str) -> str:
    return f"Request:\n{prompt}\n\nAnswer:\n{answer}"


def critique_messages(
    spec: Spec, schema: dict[str, Any] | None, prompt: str, answer: str
) -> Messages:
    system = "\n\n".join(
        p
        for p in (CRITIQUE, "Contract:\n" + contract_text(spec, schema), spec.teacher.critique)
        if p
    )
    return [
        {"role": "system", "content": system},
        {"role": "user", "content": _review_user(prompt, answer)},
    ]


def refine_messages(
    spec: Spec, schema: dict[str, Any] | None, prompt: str, answer: str, issues: list[str]
) -> Messages:
    system = "\n\n".join(
        p for p in (REFINE, "Contract:\n" + contract_text(spec, schema), spec.teacher.refine) if p
    )
    listed = (
        "\n".join(f"- {i}" for i in issues) or "- (none listed; tighten and check the contract)"
    )
    user = f"{_review_user(prompt, answer)}\n\nIssues:\n{listed}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]
