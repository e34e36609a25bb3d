from __future__ import annotations

import json

import pytest

from graftwork.core.apple.schema import AppleSchemaError, line_problems, validate_line
from graftwork.core.base.project import load_project
from graftwork.core.dataset.examples import make_example

TOOL = {
    "type": "function",
    "function": {
        "name": "create_widget",
        "description": "d",
        "arguments": {"type": "object", "properties": {}},
    },
}


def _line(messages: object) -> str:
    return json.dumps(messages, ensure_ascii=False)


def _good() -> list[dict]:
    return [
        {"role": "system", "content": "You write widgets.", "tools": [TOOL]},
        {"role": "user", "content": "A clock."},
        {"role": "assistant", "content": "export const x = 1;"},
    ]


def test_example_lines_are_valid() -> None:
    project = load_project(None)
    ex = make_example(
        "w",
        project.system_prompt,
        project.tool,
        "  A clock widget.  ",
        "// File: index.jsx\ncode\n",
    )
    assert line_problems(ex.apple_line()) == []
    validate_line(ex.apple_line())


def test_multi_turn_and_no_tools_are_valid() -> None:
    msgs = [
        {"role": "system", "content": "s"},
        {"role": "user", "content": "a"},
        {"role": "assistant", "content": "b"},
        {"role": "user", "content": "c"},
        {"role": "assistant", "content": "d"},
    ]
    assert line_problems(_line(msgs)) == []


@pytest.mark.parametrize(
    ("mutate", "expected"),
    [
        (lambda m: {"messages": m}, "must be a JSON array"),
        (lambda m: [], "empty"),
        (lambda m: [m[1], m[0], m[2]], "only index 0 may be system"),
        (lambda m: [m[1], m[2]], "first message must be system"),
        (lambda m: m[:2], "last message must be assistant"),
        (lambda m: [m[0], m[1], m[1], m[2]], "same role (user)"),
        (lambda m: [m[0], m[2]], "must directly follow a user"),
        (
            lambda m: [
                {
                    **m[0],
                    "tools": [
                        {
                            "type": "function",
                            "function": {"name": "x", "parameters": {"type": "object"}},
                        }
                    ],
                },
                m[1],
                m[2],
            ],
            "arguments is missing (Apple's key is 'arguments', not OpenAI's 'parameters')",
        ),
        (
            lambda m: [
                {
                    **m[0],
                    "tools": [
                        {"type": "tool", "function": {"name": "x", "arguments": {"type": "object"}}}
                    ],
                },
                m[1],
                m[2],
            ],
            'type must be "function"',
        ),
        (
            lambda m: [
                {
                    **m[0],
                    "tools": [
                        {
                            "type": "function",
                            "function": {"name": "", "arguments": {"type": "object"}},
                        }
                    ],
                },
                m[1],
                m[2],
            ],
            "name is missing or empty",
        ),
        (
            lambda m: [
                {
                    **m[0],
                    "tools": [
                        {
                            "type": "function",
                            "function": {"name": "x", "arguments": {"type": "array"}},
                        }
                    ],
                },
                m[1],
                m[2],
            ],
            '"type": "object"',
        ),
        (
            lambda m: [m[0], {**m[1], "tools": [TOOL]}, m[2]],
            "tools are allowed only on the first system message",
        ),
        (lambda m: [m[0], {"role": "tool", "content": "x"}, m[2]], "role 'tool' is not one of"),
        (lambda m: [m[0], {"role": "user", "content": 3}, m[2]], "content must be a string"),
        (
            lambda m: [m[0], {"role": "user", "content": " padded"}, m[2]],
            "leading or trailing whitespace",
        ),
        (lambda m: [m[0], m[1], {"role": "assistant", "content": ""}], "content is empty"),
        (lambda m: [m[0], {**m[1], "response_format": {"type": "text"}}, m[2]], "json_schema"),
        (lambda m: [m[0], {**m[1], "extra": 1}, m[2]], "unexpected key(s) extra"),
        (lambda m: ["hello", m[1], m[2]], "is not an object"),
    ],
)
def test_bad_lines_are_rejected_with_the_cause(mutate, expected: str) -> None:
    line = _line(mutate(_good()))
    problems = line_problems(line)
    assert any(expected in p for p in problems), problems
    with pytest.raises(AppleSchemaError):
        validate_line(line)


def test_not_json_and_multiline_are_rejected() -> None:
    assert "not valid JSON" in line_problems("[{")[0]
    assert "one physical line" in line_problems(json.dumps(_good(), indent=1))[0]


def test_tool_calls_and_response_format_answers() -> None:
    base = _good()
    call = {
        **base[2],
        "content": "",
        "tool_calls": [{"function": {"name": "create_widget", "arguments": "{}"}}],
    }
    assert line_problems(_line([base[0], base[1], call])) == []
    bad_call = {**call, "tool_calls": [{"function": {"arguments": "{}"}}]}
    assert any(
        "function.name is missing" in p for p in line_problems(_line([base[0], base[1], bad_call]))
    )
    rf = {
        "type": "json_schema",
        "json_schema": {"name": "Response<X>", "schema": {"type": "object"}},
    }
    user = {**base[1], "response_format": rf}
    assert line_problems(_line([base[0], user, {"role": "assistant", "content": '{"a": 1}'}])) == []
    problems = line_problems(_line([base[0], user, {"role": "assistant", "content": "not json"}]))
    assert any("JSON object string" in p for p in problems)
