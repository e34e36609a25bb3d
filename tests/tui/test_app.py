"""App-level behaviour: pane keys, help, palette, user keymap, small terminal, bad catalogs."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

from rich.console import Console
from textual.widgets import TabbedContent

from graftwork.core.base.workspace import Workspace
from graftwork.tui.app import GraftworkApp
from graftwork.tui.commands import palette_commands
from graftwork.tui.screens.error import ErrorScreen
from graftwork.tui.screens.help import HelpScreen
from graftwork.wiring import build_services
from tests.tui.fakes import with_fakes
from tests.tui.fixture_workspace import build_fixture
from tests.tui.helpers import main_screen, settle, until


async def test_pane_keys_and_focus(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        tabs = screen.query_one(TabbedContent)
        for key, pane, focus in (
            ("2", "prompt", "prompt-editor"),
            ("f4", "budget", "budget-histogram"),
            ("f5", "runs", "runs-table"),
            ("f2", "widgets", "widgets-table"),
        ):
            await pilot.press(key)
            assert tabs.active == pane
            assert app.focused is not None and app.focused.id == focus
        await pilot.click("#panes Tab#--content-tab-runs")  # the mouse works too
        assert tabs.active == "runs"


def _plain(renderable: object, width: int) -> str:
    with open(os.devnull, "w") as sink:  # closed here: an open file warns when collected
        console = Console(width=width, record=True, file=sink)
        console.print(renderable)
        return console.export_text()


async def test_help_lists_every_binding_id(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await main_screen(pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        text = _plain(app.screen.text, 106)
        ids = [b.id for _, bindings in app.binding_groups() for b in bindings if b.id]
        assert len(ids) == len(set(ids)), "binding ids are unique"
        for binding_id in ids:
            assert binding_id in text
        await pilot.press("escape")
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)


async def test_help_stays_aligned_at_80_columns(make_app) -> None:
    """Long descriptions wrap inside their own column: every binding id starts at the same
    column (the old help wrapped whole lines under the key column at 80)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await main_screen(pilot)
        await pilot.press("f1")
        assert isinstance(app.screen, HelpScreen)
        help_box = app.screen.query_one("#help")
        assert help_box.outer_size.width <= 80
        lines = _plain(app.screen.text, help_box.content_size.width).splitlines()
        ids = [b.id for _, bindings in app.binding_groups() for b in bindings if b.id]
        starts = {line.index(i) for i in ids for line in lines if line.rstrip().endswith(i)}
        assert len(starts) == 1, starts
        assert all(len(line.rstrip()) <= help_box.content_size.width for line in lines)


async def test_palette_shows_each_commands_key(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await until(pilot, lambda: screen.selected_id == "clock")
        helps = {c.title: c.help for c in palette_commands(screen)}
        assert helps["widgets: exclude"].endswith("key x")
        assert helps["widgets: clear decision"].endswith("key u")
        assert helps["view: prompt"].endswith("key 2 or f3")
        assert helps["runs: build a set"].endswith("key m in Runs")
        assert helps["view: maximize or restore"].endswith("key z or f11")


async def test_palette_titles_are_area_verb(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        titles = [c.title for c in palette_commands(screen)]
        assert all(
            t.split(": ", 1)[0] in {"view", "widgets", "prompt", "budget", "runs", "app"}
            for t in titles
        )
        for wanted in (
            "runs: ingest a manifest",
            "runs: analyze",
            "runs: budget",
            "runs: build a set",
            "runs: export a set",
            "widgets: exclude",
            "prompt: insert template draft",
            "widgets: show over budget",
            "budget: edit limit",
        ):
            assert wanted in titles


async def test_ingest_from_a_modal_runs_the_stage(make_app) -> None:
    seen: list[dict] = []

    def fake_ingest(*, manifest, widgets=None, refresh=False, job, **_):
        from graftwork.core.base.jobs import StageResult

        seen.append({"manifest": manifest, "widgets": widgets, "refresh": refresh})
        return StageResult()

    app = make_app(ingest=fake_ingest)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("4", "i")
        await until(pilot, lambda: app.screen.__class__.__name__ == "FormModal")
        await pilot.press(*"https://example.org/widgets.json", "tab", *"a,b", "enter")
        await until(pilot, lambda: bool(seen))
        assert seen == [
            {
                "manifest": "https://example.org/widgets.json",
                "widgets": ["a", "b"],
                "refresh": False,
            }
        ]
        await until(
            pilot,
            lambda: any(
                j.kind == "ingest" and j.state == "done" for j in screen.runs_pane.jobs.values()
            ),
        )


async def test_user_keymap_remaps_by_binding_id(tmp_path: Path) -> None:
    ws = build_fixture(tmp_path / "ws", keymap={"widgets.exclude": "e", "no.such": "z"})
    app = GraftworkApp(ws, with_fakes(build_services(ws)))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await until(pilot, lambda: screen.selected_id == "clock")
        await pilot.press("x")  # the default key no longer excludes
        await settle(pilot)
        assert screen.rows["clock"].decision == "include"
        await pilot.press("e")
        await until(pilot, lambda: screen.rows["clock"].decision == "exclude")
        assert any("no.such" in n.message for n in app._notifications)
        # the palette names the remapped key
        helps = {c.title: c.help for c in palette_commands(screen)}
        assert helps["widgets: exclude"].endswith("key e")


async def test_too_small_terminal_shows_a_message(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(60, 16)) as pilot:
        screen = await main_screen(pilot)
        assert screen.has_class("-too-small")
        assert "needs at least 80×24" in str(screen.query_one("#too-small-text").render())
        assert not screen.query_one("#panes").display


async def test_corrupt_catalog_gets_an_error_screen(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    ws.db_path.write_bytes(b"this is not a sqlite file at all" * 100)
    for suffix in ("-wal", "-shm"):
        Path(str(ws.db_path) + suffix).unlink(missing_ok=True)
    app = GraftworkApp(ws, with_fakes(build_services(ws)))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        assert "corrupt" in app.screen.message or "not a" in app.screen.message
        await pilot.press("q")
    assert app.return_code in (0, None)


async def test_locked_catalog_gets_an_error_screen(tmp_path: Path, monkeypatch) -> None:
    # A real lock would make open_catalog wait out its 10 s busy timeout first, so sqlite
    # is made to answer "locked" at once; the error path after that is the real one.
    ws = Workspace.init(tmp_path / "ws")
    monkeypatch.setattr(
        "graftwork.core.base.catalog.db.sqlite3.connect",
        lambda *a, **k: (_ for _ in ()).throw(sqlite3.OperationalError("database is locked")),
    )
    app = GraftworkApp(ws, with_fakes(build_services(ws)))
    async with app.run_test(size=(120, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        assert "locked" in app.screen.message
