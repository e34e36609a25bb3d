"""Static facts from small widget sources we wrote for these tests."""

from __future__ import annotations

from graftwork.core.analyze.jsx_facts import extract_facts, read_literal, strip_comments

HOOKS_WIDGET = """\
import { run } from "uebersicht";
import React, { useState, useEffect } from "react";

// export const command = "this one is commented out";
export const command = undefined;
export const refreshFrequency = false;

export const render = () => {
  const [load, setLoad] = useState("");
  useEffect(() => { run("uptime").then(setLoad); }, []);
  return <div style={{ color: "white" }}>Load: {load}</div>;
};
"""

EMOTION_WIDGET = """\
import { css } from "uebersicht"

export const command = `df -h / | tail -1 | awk '{print $5}'`
export const refreshFrequency = 1000 * 60 * 5 // five minutes

const box = css`
  position: absolute; /* not a JS comment */
  top: 10px;
`
export const render = ({ output }) => <div className={box}>Disk: {output}</div>
"""

STYLED_WIDGET = """\
import { styled } from "uebersicht";
const Box = styled("div")`color: red;`;
const Title = styled.h1`font-size: 2em;`;
const CMD = "date +%H:%M";
export const command = CMD;
export const refreshFrequency = 30000;
export const className = `
  left: 20px;
`;
export const render = ({ output }) => <Box><Title>{output}</Title></Box>;
"""

STATE_WIDGET = """\
const MINUTE = 60 * 1000;
export const initialState = { items: [] };
export const command = async (dispatch) => {
  const res = await fetch("http://127.0.0.1:9/feed.json");
  dispatch({ type: "FEED", data: await res.json() });
};
export const refreshFrequency = MINUTE * 10;
export const updateState = (event, previous) => ({ ...previous, items: event.data });
export const className = { top: 0, left: 0 };
export const render = ({ items }) => <ul className="feed">{items.map(i => <li>{i}</li>)}</ul>;
"""

COFFEE_WIDGET = """\
# a comment: command: "not this"
command: "echo hello"

refreshFrequency: 10000

style: \"\"\"
  top: 10px
\"\"\"

render: (output) -> "<h1>#{output}</h1>"
"""


def test_hooks_run_and_refresh_false() -> None:
    f = extract_facts(HOOKS_WIDGET)
    assert f.refresh_disabled is True and f.refresh_frequency == "false" and f.refresh_ms is None
    assert f.command_kind == "none" and f.command is None  # `undefined`, not the commented-out one
    assert f.hooks == ["useState", "useEffect"]
    assert f.uses_run and f.uses_react and not f.uses_fetch
    assert f.imports == ["uebersicht", "react"]
    assert f.uebersicht_imports == ["run"]
    assert f.styling == ["inline-style"]
    assert {"command", "refreshFrequency", "render"} <= set(f.exports)


def test_emotion_css_and_template_literal_command() -> None:
    f = extract_facts(EMOTION_WIDGET)
    assert f.command == "df -h / | tail -1 | awk '{print $5}'"
    assert f.command_kind == "template"
    assert f.refresh_frequency == "1000 * 60 * 5" and f.refresh_ms == 300_000
    assert f.styling == ["emotion-css", "class-names"]
    assert f.uebersicht_imports == ["css"]
    assert f.hooks == [] and not f.uses_run


def test_styled_and_command_through_a_constant() -> None:
    f = extract_facts(STYLED_WIDGET)
    assert f.command == "date +%H:%M" and f.command_kind == "string"
    assert f.refresh_ms == 30_000
    assert "styled" in f.styling and "className-css" in f.styling
    assert "emotion-css" not in f.styling


def test_function_command_fetch_update_state_and_constant_expression() -> None:
    f = extract_facts(STATE_WIDGET)
    assert f.command == "function" and f.command_kind == "function"
    assert f.uses_fetch and f.uses_update_state and f.uses_initial_state
    assert f.refresh_frequency == "MINUTE * 10" and f.refresh_ms == 600_000
    assert f.styling == ["className-object", "class-names"]


def test_coffee_command_refresh_and_style() -> None:
    f = extract_facts(COFFEE_WIDGET, "coffee")
    assert f.command == "echo hello" and f.command_kind == "string"
    assert f.refresh_ms == 10_000
    assert f.styling == ["css-string"]


def test_strip_comments_keeps_strings_and_offsets() -> None:
    src = 'const a = "http://x"; // gone\nconst b = /\\/\\//g; /* gone\ntoo */ const c = `//kept`;'
    out = strip_comments(src)
    assert len(out) == len(src) and out.count("\n") == src.count("\n")
    assert '"http://x"' in out and "`//kept`" in out and "/\\/\\//g" in out
    assert "gone" not in out and "too" not in out


def test_apostrophe_in_jsx_text_only_confuses_one_line() -> None:
    src = "const r = () => <p>Don't panic</p>;\n// export const command = 'hidden'\nexport const command = 'ls';\n"
    f = extract_facts(src)
    assert f.command == "ls"


def test_read_literal_escapes_and_concatenation() -> None:
    assert read_literal('"a\\"b" rest', 0) == ('a"b', "string", 6)
    assert read_literal("`x ${`y`} z`", 0)[0] == "x ${`y`} z"
    f = extract_facts("export const command = 'ps aux' + ' | head -5';")
    assert f.command == "ps aux | head -5" and f.command_kind == "string"


def test_expression_command_and_empty_command() -> None:
    f = extract_facts("const base = 'ls';\nexport const command = base + ' -la ' + dir;\n")
    assert f.command_kind == "expression" and f.command == "base + ' -la ' + dir"
    assert extract_facts("export const command = '';").command_kind == "none"
    assert extract_facts("export const command = null;").command is None


def test_unknown_refresh_expression_is_kept_but_not_evaluated() -> None:
    f = extract_facts("export const refreshFrequency = getInterval();")
    assert (
        f.refresh_frequency == "getInterval()" and f.refresh_ms is None and not f.refresh_disabled
    )


def test_refresh_duration_strings() -> None:
    assert extract_facts("refreshFrequency: '10s'\n", "coffee").refresh_ms == 10_000
    assert extract_facts('export const refreshFrequency = "2m";').refresh_ms == 120_000
    assert extract_facts("export const refreshFrequency = 60_000;").refresh_ms == 60_000


def test_exports_listed_at_the_end() -> None:
    src = (
        "const command = 'whoami';\nconst refreshFrequency = 2 * 1000;\n"
        "const render = ({ output }) => <b>{output}</b>;\n"
        "export { command, refreshFrequency, render as default };\n"
    )
    f = extract_facts(src)
    assert (f.command, f.refresh_ms) == ("whoami", 2000)
    assert f.exports == ["command", "refreshFrequency", "default"]


def test_refresh_expressions_that_cannot_be_an_interval_give_no_ms() -> None:
    # Found in hostile or broken widgets: each used to raise out of extract_facts and stop
    # the whole analyze stage (OverflowError on inf, RecursionError/MemoryError in the parser).
    for expr in (
        "1e400",
        "1e308 * 10",
        "(" * 300 + "1" + ")" * 300,
        "-" * 100_000 + "1",
        "1+" * 100_000 + "1",
    ):
        f = extract_facts(f"export const refreshFrequency = {expr};\n")
        assert f.refresh_frequency == expr and f.refresh_ms is None
