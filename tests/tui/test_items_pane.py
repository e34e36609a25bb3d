"""The recipe-aware items pane (pane 1 for every recipe but uebersicht) on real workspaces:
an import workspace filled by the real import stage from a JSONL written here, and a readmes
workspace collected and chunked from real git-less folders. Real SQLite throughout; the only
stand-in is the tests' word-counting token counter for the live gauge (tests/tui/fakes.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from graftwork.core.base.jobs import Job
from graftwork.core.base.workspace import Workspace
from graftwork.core.curate.curation import get_decision
from graftwork.core.sources.imported import import_paths
from graftwork.tui.widgets.items_pane import ItemsPane, SectionsView
from tests.tui.helpers import main_screen, until

RECORDS = [
    {"instruction": "Name a colour.", "input": "", "output": "Blue.", "meta": {"id": "c1"}},
    {
        "instruction": "Add the numbers.",
        "input": "2 and 3",
        "output": "2 + 3 = **5**",
        "meta": {"id": "sum"},
    },
    {
        "instruction": "Say hello in French.",
        "input": "",
        "output": "Bonjour.",
        "meta": {"id": "fr"},
    },
]
CHAT = {
    "id": "tool1",
    "messages": [
        {"role": "system", "content": "You call tools."},
        {"role": "user", "content": "Weather in Oslo?"},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {
                    "type": "function",
                    "function": {"name": "weather", "arguments": json.dumps({"city": "Oslo"})},
                }
            ],
        },
    ],
    "tools": [
        {
            "type": "function",
            "function": {
                "name": "weather",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
            },
        }
    ],
}


def _write(path: Path, records: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


@pytest.fixture
def import_ws(tmp_path: Path) -> Workspace:
    ws = Workspace.init(tmp_path / "ws")
    ws.config_path.write_text(ws.config_path.read_text() + "recipe: import\n")
    src = tmp_path / "src"
    src.mkdir()
    _write(src / "alpaca.jsonl", RECORDS)
    _write(src / "chat.jsonl", [CHAT])
    result = import_paths(ws, [src], job=Job(None, "import"))
    assert result.ok == 4 and not result.failed
    return ws


async def test_import_items_show_the_recipes_columns_and_the_detail(make_app, import_ws) -> None:
    app = make_app(import_ws)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.items_pane
        await until(pilot, lambda: len(pane.rows) == 4 and pane.selected_id == "c1")
        table = pane.query_one("#items-table")
        labels = [label for label, _ in table.columns]
        assert labels == ["id", "format, file:line", "user", "assistant", "tokens", "decision"]
        row = pane.by_id["sum"]
        assert (row["format"], row["file"]) == ("alpaca", "alpaca.jsonl:2")
        assert row["source"] == "alpaca alpaca.jsonl:2"
        assert row["user"] == "Add the numbers.  2 and 3"  # instruction + blank line + input
        assert row["assistant"] == "2 + 3 = **5**"
        assert pane.by_id["tool1"]["format"] == "chat"
        cells = [c.plain for c in table.get_row("sum")]
        assert cells[0] == "sum" and cells[-1] == "—"  # no decision yet

        # the detail: every turn, the last user and assistant side by side
        table.move_cursor(pane.shown.index("tool1"))
        detail = pane.query_one(SectionsView)
        await until(pilot, lambda: detail.item_id == "tool1")
        titles = [s.title for s in detail.sections]
        assert titles[1:5] == [
            "1 system",
            "2 user (the prompt: edit it in the Prompt pane)",
            "3 assistant: tool calls",
            "tools (1)",
        ]
        side = [s for s in detail.sections if s.group == "turn"]
        assert len(side) == 2
        assert [len(b) for b in detail.blocks].count(2) == 1  # one side-by-side block
        assert '"city": "Oslo"' in detail.sections[3].text

        # the Prompt pane edits the user turn and shows the assistant turn
        await pilot.press("2")
        prompt = screen.prompt_pane
        await until(pilot, lambda: prompt.item_id == "tool1")
        assert prompt.editor.text == "Weather in Oslo?"
        shown = str(prompt.query_one("#prompt-assistant").render())
        assert "weather" in shown and "Oslo" in shown
        # the widget's template and teacher drafts do not apply to imported records
        assert not prompt.check_action("template", ()) and not prompt.widget_drafts


async def test_filter_sort_and_quick_filters(make_app, import_ws) -> None:
    app = make_app(import_ws)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.items_pane
        await until(pilot, lambda: len(pane.rows) == 4)
        await pilot.press("slash", *"bonj")
        await until(pilot, lambda: pane.shown == ["fr"])
        await pilot.press("backspace", "backspace", "backspace", "backspace", "escape")
        await until(pilot, lambda: len(pane.shown) == 4)
        await pilot.press("s", "s", "s", "s")  # sort by the fourth column: user
        assert pane.shown == ["sum", "c1", "fr", "tool1"]
        await pilot.press("r")
        assert pane.shown == ["tool1", "fr", "c1", "sum"]
        pane.action_quick_filter(1)  # "not counted": nothing has a budget yet
        assert len(pane.shown) == 4
        pane.action_quick_filter(5)  # "included"
        assert pane.shown == []


async def test_escape_restores_the_sorted_list_and_a_changed_row_is_searched_anew(
    make_app, import_ws
) -> None:
    app = make_app(import_ws)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.items_pane
        table = pane.query_one("#items-table")
        await until(pilot, lambda: len(pane.rows) == 4)
        await pilot.press("s", "s", "s", "s", "r")  # by user, descending
        order = ["tool1", "fr", "c1", "sum"]
        assert pane.shown == order
        await pilot.press("slash", *"bonj")
        assert pane.shown == ["fr"] and table.cursor_key == "fr"
        await pilot.press("escape")
        assert pane.shown == order and table.cursor_key == "fr"  # the cursor stays on it
        assert not pane.query_one("#items-filter").display
        row = dict(pane.by_id["sum"], user="Bonjour: sum these up")
        pane.update_rows([row])  # as a live refresh does
        await pilot.press("slash", *"bonj")
        assert pane.shown == ["fr", "sum"]
        await pilot.press("backspace")  # not narrowing: the whole sorted list is searched
        assert pane.shown == ["fr", "sum"]
        assert "2 of 4 items" in str(pane.query_one("#items-status").render())


async def test_an_action_changes_the_catalog_and_a_cli_change_shows_up(make_app, import_ws):
    app = make_app(import_ws)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.items_pane
        await until(pilot, lambda: pane.selected_id == "c1")
        await pilot.press("x")  # the view's action: exclude
        await until(pilot, lambda: pane.by_id["c1"]["decision"] == "exclude")
        with import_ws.catalog() as db:
            assert get_decision(db, "c1")["decision"] == "exclude"
        detail = pane.query_one(SectionsView)
        await until(pilot, lambda: any(s.title == "curation" for s in detail.sections))

        # another process (the real CLI) includes "fr": the live catalog shows it
        proc = subprocess.run(
            [sys.executable, "-m", "graftwork", "-w", str(import_ws.root), "curate", "fr",
             "--include"],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        await until(pilot, lambda: pane.by_id["fr"]["decision"] == "include")
        assert pane.selected_id == "c1"  # the cursor stayed


async def test_dashboard_and_help_list_the_recipes_keys(make_app, import_ws) -> None:
    app = make_app(import_ws)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.items_pane
        await pilot.press("d")
        board = pane.query_one("#items-dashboard-text")
        await until(pilot, lambda: "4 records" in str(board.render()))
        right = pane.query_one("#items-right")
        before = right.outer_size.width
        await pilot.press("less_than_sign")  # the divider moves left: the detail widens
        await until(pilot, lambda: right.outer_size.width > before)
        await pilot.press("z")  # the focused region (the list) fills the screen
        await until(pilot, lambda: screen.maximized is not None)
        await pilot.press("z")
        await until(pilot, lambda: screen.maximized is None)
        groups = dict(app.binding_groups())
        ids = {b.id for b in groups["1 Items"]}
        assert {"import.include", "import.exclude", "items.filter", "items.dashboard"} <= ids
        titles = [c.title for c in app.get_system_commands(screen)]
        assert "items: exclude" in titles and "items: dashboard" in titles


async def test_an_action_key_is_remappable(make_app, import_ws) -> None:
    import_ws.config_path.write_text(
        import_ws.config_path.read_text() + "keymap:\n  import.exclude: ctrl+e\n"
    )
    app = make_app(import_ws)
    async with app.run_test(size=(140, 44)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.items_pane
        await until(pilot, lambda: pane.selected_id == "c1")
        assert not app.keymap_problems
        await pilot.press("ctrl+e")
        await until(pilot, lambda: pane.by_id["c1"]["decision"] == "exclude")


def test_items_pane_is_only_for_other_recipes(fixture_ws) -> None:
    assert ItemsPane.action_bindings(object()) == []


# -- the readmes recipe ---------------------------------------------------------------------
@pytest.fixture
def readmes_ws(tmp_path: Path) -> Workspace:
    from graftwork.core.base.jobs import run_job
    from graftwork.core.sources.readmes.chunks import chunk_stage
    from tests.readmes.helpers import PY_FILES, collect, configure
    from tests.support.git_repos import write_files

    ws = Workspace.init(tmp_path / "ws")
    ws.config_path.write_text(ws.config_path.read_text() + "recipe: readmes\n")
    configure(ws, chunk={"min_chars": 40, "max_chars": 120})
    for name in ("alpha", "beta"):
        readme = f"# {name}\n\n{name} does one thing well. " + "It is small and tidy. " * 3
        readme += "\n\n## Usage\n\nRun the tool in a folder. It prints a report."
        write_files(tmp_path / name, {**PY_FILES, "README.md": readme})
    (tmp_path / "alpha" / "README.generated.md").write_text("# alpha\n\nGenerated words.\n")
    assert collect(ws, str(tmp_path / "alpha"), str(tmp_path / "beta")).ok == 2
    with ws.catalog() as db:
        run_job(db, "chunk", lambda job: chunk_stage(ws, job=job))
    return ws


async def test_readmes_chunks_facts_detail_and_instruction_editing(make_app, readmes_ws) -> None:
    app = make_app(readmes_ws)
    async with app.run_test(size=(150, 44)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.items_pane
        await until(pilot, lambda: len(pane.rows) == 4 and pane.selected_id is not None)
        labels = [label for label, _ in pane.query_one("#items-table").columns]
        assert labels == [
            "repository", "section", "chars", "chunks", "README", "licence", "split",
            "instruct", "instruction",
        ]  # fmt: skip
        first = pane.by_id[pane.selected_id]
        assert first["repo"] == "alpha" and first["chunks"] == 2
        assert first["license"] == "MIT" and first["state"] == "template"
        assert first["readme"].endswith(" B") and first["split"] in ("train", "valid", "test")
        assert {r["split"] for r in pane.rows if r["repo"] == "alpha"} == {first["split"]}

        detail = pane.query_one(SectionsView)
        await until(pilot, lambda: detail.item_id == first["id"])
        pair = [s.title for s in detail.sections if s.group == "pair"]
        assert pair == ["instruction (the prompt: edit it in the Prompt pane)",
                        "chunk (the assistant turn)"]  # fmt: skip
        side = {s.title: s.text for s in detail.sections if s.group == "readme"}
        assert "README.generated.md (graftwork readme)" in side  # beside the real one
        assert any("Generated words." in text for text in side.values())
        assert any("file tree" in s.title for s in detail.sections)

        # the instruction is the prompt: edited in the Prompt pane, it shows in the list
        await pilot.press("2")
        prompt = screen.prompt_pane
        await until(pilot, lambda: prompt.item_id == first["id"])
        assert prompt.editor.text.startswith("Write the")
        prompt.editor.load_text("Write the opening of a README for this small tool.")
        prompt.action_save()
        await until(
            pilot, lambda: pane.by_id[first["id"]]["instruction"].startswith("Write the opening")
        )
        await pilot.press("f2", "d")  # F2: pane 1 even from inside the editor
        board = pane.query_one("#items-dashboard-text")
        await until(pilot, lambda: "2 repositories collected" in str(board.render()))
        assert "4 chunks" in str(board.render())

        # the teacher's run in another process marks a chunk failed (readme tables only, no
        # core table moves): the view's changed() brings it in, the cursor stays put
        second = next(r["id"] for r in pane.rows if r["id"] != first["id"])
        with readmes_ws.catalog() as db:
            db.execute(
                "UPDATE readme_chunks SET instruct_state = 'failed', instruct_error = 'bad JSON'"
                " WHERE item_id = ?",
                [second],
            )
            db.conn.commit()
        await until(pilot, lambda: pane.by_id[second]["state"] == "failed")
        assert pane.selected_id == first["id"]
        await until(pilot, lambda: "1 failed" in str(board.render()))  # the dashboard too
