"""Recipe metrics: checks of one generated answer against its example, per metric set.

A recipe names its sets in `Recipe.metrics`; each set scores an answer into named values
(True/False, or None where the check does not apply to that example, e.g. a tool-call match
for an example whose reference is not a tool call). `aggregate` turns them into rates.

Sets:
- ``exact_match`` (templates): the answer equals the reference (surrounding whitespace aside).
- ``tool_calls`` (buckets): the answer is a valid tool call (`rules.tools.check_output`, the
  checker the generator and `validate` use), names the reference's tool, and has exactly the
  reference's arguments.
- ``contract`` (plan): the spec's contract checker: parses, valid schema, required keys,
  passes.
- ``widget_code`` (uebersicht): parses as JSX (a real parser behind the `JsParse` port),
  exports ``command``, ``refreshFrequency`` and ``render``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from graftwork.core.base.workspace import Workspace
from graftwork.core.spec.contract import strip_fences

Values = dict[str, bool | None]


@dataclass(frozen=True)
class JsModule:
    """What a JavaScript parser says about a text: parses, first error, exported names."""

    ok: bool
    error: str | None
    exports: frozenset[str]


JsParse = Callable[[str], JsModule]


@dataclass(frozen=True)
class Case:
    """One evaluation example: the prompt both models answer and what it is checked against."""

    key: str  # generation key, k0, k1, ...
    item_id: str
    prompt: str  # the last user turn (for people)
    messages: list[dict[str, Any]]  # chat prompt without the answer (what the template takes)
    tools: list[dict[str, Any]] | None  # OpenAI-shaped tools, or None
    reference: str  # the example's answer ("" when the suite has none)
    meta: dict[str, Any]  # manifest meta or the suite record's extra fields
    stored_messages: list[dict[str, Any]]  # what the samples row keeps (the set's own shape)


class MetricSet(Protocol):
    name: str

    def score(self, case: Case, answer: str) -> Values: ...


class ExactMatch:
    name = "exact_match"

    def score(self, case: Case, answer: str) -> Values:
        if not case.reference.strip():
            return {"exact_match": None}
        return {"exact_match": answer.strip() == case.reference.strip()}


def _task_type(case: Case, reference: Any) -> str | None:
    meta = case.meta
    for where in (meta, meta.get("record") if isinstance(meta.get("record"), dict) else {}):
        if isinstance(where.get("task_type"), str):
            return where["task_type"]
    if isinstance(reference, dict):
        if "tool" in reference:
            return "tool_call"
        if "mistake" in reference:
            return "tool_neg"
    return None


def _json(text: str) -> Any:
    try:
        return json.loads(strip_fences(text))
    except ValueError:
        return None


class ToolCalls:
    name = "tool_calls"

    def __init__(self, tools: dict[str, Any]) -> None:
        self.tools = tools  # name -> rules.tools.Tool

    def score(self, case: Case, answer: str) -> Values:
        from graftwork.core.rules.tools import TOOL_CORE_TYPES, TOOL_NEG_TYPES, check_output

        reference = _json(case.reference)
        task = _task_type(case, reference)
        empty: Values = {"tool_call_valid": None, "tool_match": None, "arguments_match": None}
        if task not in TOOL_CORE_TYPES | TOOL_NEG_TYPES:
            return empty
        tools = self.tools or _case_tools(case)
        valid = check_output(task, strip_fences(answer), tools) is None if tools else None
        if task in TOOL_NEG_TYPES:
            return {**empty, "tool_call_valid": valid}
        got = _json(answer)
        got = got if isinstance(got, dict) else {}
        ref = reference if isinstance(reference, dict) else {}
        same_tool = bool(ref) and got.get("tool") == ref.get("tool")
        return {
            "tool_call_valid": valid,
            "tool_match": same_tool if ref else None,
            "arguments_match": (same_tool and got.get("arguments") == ref.get("arguments"))
            if ref
            else None,
        }


def _case_tools(case: Case) -> dict[str, Any]:
    """Tools the example itself carries (OpenAI-shaped), when the workspace has no spec."""
    from graftwork.core.rules.tools import ToolsError, load_tools

    items = [t.get("function", t) for t in case.tools or [] if isinstance(t, dict)]
    items = [
        {
            "name": t.get("name"),
            "description": t.get("description", ""),
            "parameters": t.get("parameters") or t.get("arguments") or {"type": "object"},
        }
        for t in items
    ]
    try:
        return load_tools(items, f"tools of {case.item_id}") if items else {}
    except ToolsError:
        return {}


class Contract:
    name = "contract"

    def __init__(self, checker: Any) -> None:
        self.checker = checker  # spec.contract.ContractChecker

    def score(self, case: Case, answer: str) -> Values:
        check = self.checker.check(answer)
        rules = {p.rule for p in check.problems}
        return {
            "parses": check.parse_ok,
            "schema_valid": check.schema_ok,
            "required_keys": ("required_keys" not in rules)
            if check.parse_ok is not False
            else False,
            "passes_contract": check.passes("lenient"),
        }


WIDGET_EXPORTS = ("command", "refreshFrequency", "render")


class WidgetCode:
    name = "widget_code"

    def __init__(self, parse: JsParse) -> None:
        self.parse = parse

    def score(self, case: Case, answer: str) -> Values:
        module = self.parse(strip_fences(answer))
        out: Values = {"jsx_parses": module.ok}
        for name in WIDGET_EXPORTS:
            out[f"exports_{name}"] = name in module.exports
        out["widget_complete"] = module.ok and all(n in module.exports for n in WIDGET_EXPORTS)
        return out


@dataclass
class Services:
    """What metric sets may need from outside core (bound in graftwork.wiring)."""

    parse_js: JsParse | None = None


def _bucket_tools(ws: Workspace) -> dict[str, Any]:
    """The buckets spec's tools (spec.yaml), else none (then each example's own tools)."""
    from graftwork.core.base.errors import GraftworkError
    from graftwork.core.rules.buckets import load_buckets
    from graftwork.core.rules.stage import spec_path
    from graftwork.core.rules.tools import ToolsError

    try:
        return load_buckets(spec_path(ws, None))[1]
    except (GraftworkError, ToolsError, OSError):
        return {}


def _contract(ws: Workspace, db: Any) -> Contract:
    from graftwork.core.plan.evaluate import contract_checker

    return Contract(contract_checker(db))


def metric_sets(ws: Workspace, db: Any, names: tuple[str, ...], services: Services) -> list[Any]:
    """The metric sets a recipe declares, ready to score (an unknown name is a bug)."""
    out: list[Any] = []
    for name in names:
        if name == "exact_match":
            out.append(ExactMatch())
        elif name == "tool_calls":
            out.append(ToolCalls(_bucket_tools(ws)))
        elif name == "contract":
            out.append(_contract(ws, db))
        elif name == "widget_code":
            if services.parse_js is None:
                raise ValueError("widget_code needs a JavaScript parser (Services.parse_js)")
            out.append(WidgetCode(services.parse_js))
        else:
            raise ValueError(f"unknown metric set {name!r}")
    return out


METRIC_SETS = ("exact_match", "tool_calls", "contract", "widget_code")


def score_answer(sets: list[Any], case: Case, answer: str) -> Values:
    values: Values = {}
    for metric_set in sets:
        values.update(metric_set.score(case, answer))
    return values


def aggregate(per_case: list[Values]) -> dict[str, tuple[float | None, int]]:
    """metric -> (rate over the examples it applies to, how many that is)."""
    names: list[str] = []
    for values in per_case:
        names += [n for n in values if n not in names]
    out: dict[str, tuple[float | None, int]] = {}
    for name in names:
        seen = [v for values in per_case if (v := values.get(name)) is not None]
        out[name] = (sum(1 for v in seen if v) / len(seen) if seen else None, len(seen))
    return out
