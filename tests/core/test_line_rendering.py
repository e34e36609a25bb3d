"""Build's shortcuts render exactly what the plain encoders do: `jsonfast.dumps` is
`json.dumps(ensure_ascii=False)`, a chat line is `json.dumps(chat_record())`, and the apple line
cut out of a chat line is `apple_line()`."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from graftwork.core.base.jsonfast import dumps
from graftwork.core.dataset.examples import Example
from graftwork.core.dataset.sets import apple_line_of, render_line

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(_json)
def test_dumps_is_json_dumps(value: Any) -> None:
    assert dumps(value) == json.dumps(value, ensure_ascii=False)


def test_dumps_refuses_what_json_dumps_refuses() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps({"a": object()})


TOOL = {"type": "function", "function": {"name": "f", "arguments": {"type": "object"}}}
EXAMPLES = [
    Example(
        "a", [{"role": "user", "content": 'Hi \u2028 "ü"'}, {"role": "assistant", "content": "x"}]
    ),
    Example(
        "b",
        [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "U"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [{"function": {"name": "f", "arguments": {"k": 1.5}}}],
            },
            {"role": "tool", "content": "r"},
            {"role": "assistant", "content": "done"},
        ],
    ),
    Example(
        "c",
        [
            {"role": "system", "content": "S"},
            {"role": "user", "content": "U"},
            {"role": "assistant", "content": "A"},
        ],
        [TOOL],
    ),
    Example(
        "d",
        [
            {"role": "system", "content": "S", "tools": []},
            {"role": "user", "content": "U"},
            {"role": "assistant", "content": "A"},
        ],
    ),
    Example("e", []),
]


@pytest.mark.parametrize("ex", EXAMPLES, ids=lambda e: e.item_id)
def test_lines_equal_the_plain_renderings(ex: Example) -> None:
    chat = render_line(ex, "chat")
    assert chat == json.dumps(ex.chat_record(), ensure_ascii=False)
    apple = ex.apple_line()
    assert apple == json.dumps(ex.apple_messages(), ensure_ascii=False)
    assert apple_line_of(ex, chat, "chat") == apple
    assert apple_line_of(ex, render_line(ex, "apple"), "apple") == apple


U = {"role": "user", "content": "u"}
A = {"role": "assistant", "content": "a"}
S = {"role": "system", "content": "s"}
T = {"role": "tool", "content": "t"}
CALL = {
    "role": "assistant",
    "content": "",
    "tool_calls": [{"function": {"name": "f", "arguments": {}}}],
}


@pytest.mark.parametrize(
    ("messages", "problems"),
    [
        ([S, U, A], []),
        ([U, CALL, T, A], []),
        ([U, A, U, A], []),
        ([U, U, A], []),
        ([T, U, A], ["message 0 (tool): a tool result must follow the assistant's tool call"]),
        ([U, T, A], ["message 1 (tool): a tool result must follow the assistant's tool call"]),
        ([U, S, A], ["message 1 (system): a system message is allowed only first"]),
        ([U, A, A], ["message 2 (assistant): two assistant messages in a row"]),
        ([U, {"role": "assistant", "content": " "}], ["message 1 (assistant): content is empty"]),
        (
            [U, {"role": "assistant", "content": 3}],
            ["message 1 (assistant): content must be a string"],
        ),
        ([S, A], ["no user message"]),
        ([U, A, U], ["the last message must be the assistant's, got user"]),
        (
            [U, {"role": "bot", "content": "x"}, A],
            ["message 1: role 'bot' is not one of system, user, assistant, tool"],
        ),
        ([U, "x", A], ["message 1 is not an object"]),
    ],
)
def test_chat_rules(messages: list[Any], problems: list[str]) -> None:
    from graftwork.core.dataset.chat_schema import messages_problems

    assert messages_problems(messages) == problems
