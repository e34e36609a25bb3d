"""Recipe metrics on hand-made answers, valid and invalid: exact match, tool calls (with the
buckets recipe's own tool schemas), the plan contract, and widget code through the real
tree-sitter JavaScript parser."""

from __future__ import annotations

import json
import shutil
from typing import Any

import pytest

from graftwork.adapters.js_parser import parse_module
from graftwork.core.base.config import configs_dir
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.eval.metrics import (
    Case,
    Contract,
    ExactMatch,
    ToolCalls,
    WidgetCode,
    aggregate,
)
from graftwork.core.rules.tools import default_tools_path, read_tools


def case(reference: str, meta: dict[str, Any] | None = None) -> Case:
    return Case(
        "k0", "item-1", "q", [{"role": "user", "content": "q"}], None, reference, meta or {}, []
    )


def test_exact_match_ignores_surrounding_whitespace_only() -> None:
    m = ExactMatch()
    assert m.score(case("c a t"), "c a t\n") == {"exact_match": True}
    assert m.score(case("c a t"), "c-a-t") == {"exact_match": False}
    assert m.score(case("C a t"), "c a t") == {"exact_match": False}
    assert m.score(case(""), "anything") == {"exact_match": None}  # no reference: not counted


TOOLS = read_tools(default_tools_path())
REF = json.dumps({"tool": "read_file", "arguments": {"filepath": "src/app.py"}})


@pytest.mark.parametrize(
    ("answer", "valid", "tool", "args"),
    [
        (REF, True, True, True),
        ("```json\n" + REF + "\n```", True, True, True),  # a fenced call is still the call
        (
            json.dumps({"tool": "read_file", "arguments": {"filepath": "README.md"}}),
            True,
            True,
            False,
        ),
        (json.dumps({"tool": "view_diff", "arguments": {}}), True, False, False),
        (
            json.dumps({"tool": "read_file", "arguments": {}}),
            False,
            True,
            False,
        ),  # filepath required
        (json.dumps({"tool": "no_such_tool", "arguments": {}}), False, False, False),
        ("I would read the file src/app.py.", False, False, False),
    ],
)
def test_tool_calls_validity_and_exact_matches(
    answer: str, valid: bool, tool: bool, args: bool
) -> None:
    got = ToolCalls(TOOLS).score(case(REF, {"record": {"task_type": "tool_core"}}), answer)
    assert got == {"tool_call_valid": valid, "tool_match": tool, "arguments_match": args}


def test_tool_calls_apply_only_to_tool_examples() -> None:
    got = ToolCalls(TOOLS).score(case("Use four spaces.", {"task_type": "style"}), "ok")
    assert set(got.values()) == {None}
    neg_ref = json.dumps(
        {"mistake": "bad_json", "expected_tool": "ls", "call": "{ls", "explanation": "not JSON"}
    )
    neg = ToolCalls(TOOLS).score(case(neg_ref, {"task_type": "tool_neg"}), neg_ref)
    assert neg == {"tool_call_valid": True, "tool_match": None, "arguments_match": None}


def test_contract_scores_the_plan_specs_json_contract(workspace: Workspace) -> None:
    from graftwork.core.plan.evaluate import contract_checker
    from graftwork.core.plan.planner import run_plan

    specs = configs_dir() / "specs"
    shutil.copy(specs / "travel_guide.yaml", workspace.root / "spec.yaml")
    shutil.copy(specs / "travel_cities.txt", workspace.root)
    with workspace.catalog() as db:
        run_job(db, "plan", lambda job: run_plan(workspace, job=job))
        metric = Contract(contract_checker(db))
    good = {
        "summary": "Two easy days: old town first, then the river.",
        "assumptions": [],
        "steps": [{"title": "Day 1", "detail": "Old town"}],
        "tips": [],
        "verify": ["opening hours"],
    }
    assert metric.score(case(""), json.dumps(good)) == {
        "parses": True,
        "schema_valid": True,
        "required_keys": True,
        "passes_contract": True,
    }
    missing = metric.score(case(""), json.dumps({"summary": "x"}))
    assert missing["parses"] is True and missing["passes_contract"] is False
    assert missing["required_keys"] is False
    prose = metric.score(case(""), "Sure! Here are some ideas.")
    assert prose["parses"] is False and prose["passes_contract"] is False


WIDGET = """// File: index.jsx
import { css } from "uebersicht"
export const command = "date"
export const refreshFrequency = 1000
const box = css`color: red;`
export const render = ({ output }) => <div className={box}>{output}</div>
"""


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        (WIDGET, dict(jsx_parses=True, command=True, refresh=True, render=True, complete=True)),
        (
            "```jsx\n" + WIDGET + "```",
            dict(jsx_parses=True, command=True, refresh=True, render=True, complete=True),
        ),
        (
            "export const command = 'date'\nexport function render({output}) { return <p>{output}</p> }",
            dict(jsx_parses=True, command=True, refresh=False, render=True, complete=False),
        ),
        (
            "const command = 'x', refreshFrequency = 5\nconst render = () => <b/>\nexport { command, refreshFrequency, render }",
            dict(jsx_parses=True, command=True, refresh=True, render=True, complete=True),
        ),
        (  # exports named in a comment or a string are not exports
            "// export const command = 'date'\nconst s = 'export const render = 1'\nexport const refreshFrequency = 1",
            dict(jsx_parses=True, command=False, refresh=True, render=False, complete=False),
        ),
        (  # the exports are there, but the code does not parse
            WIDGET + "const broken = (;\n",
            dict(jsx_parses=False, command=True, refresh=True, render=True, complete=False),
        ),
        (
            "Here is a widget that shows the date.",
            dict(jsx_parses=False, command=False, refresh=False, render=False, complete=False),
        ),
    ],
)
def test_widget_code_parses_jsx_and_finds_exports(answer: str, expected: dict[str, bool]) -> None:
    got = WidgetCode(parse_module).score(case(""), answer)
    assert got == {
        "jsx_parses": expected["jsx_parses"],
        "exports_command": expected["command"],
        "exports_refreshFrequency": expected["refresh"],
        "exports_render": expected["render"],
        "widget_complete": expected["complete"],
    }


def test_parser_names_the_line_of_the_first_error() -> None:
    module = parse_module("export const command = 'date'\n\nexport const render = ( => <p>")
    assert not module.ok and module.error == "syntax error at line 3"


def test_aggregate_counts_only_examples_a_metric_applies_to() -> None:
    rates = aggregate([{"a": True, "b": None}, {"a": False, "b": True}, {"a": True}])
    assert rates == {"a": (2 / 3, 3), "b": (1.0, 1)}
    assert aggregate([{"a": None}]) == {"a": (None, 0)}
