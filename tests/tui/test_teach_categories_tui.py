"""`teach categories` started from the workstation (Runs pane `k`, remappable, in help and the
palette): the estimate with its spend first, as the CLI prints it; no answer, no call; yes
runs the declared stage (job kind `teach.categories`) against the real fake teacher server on
127.0.0.1, and the widgets' categories reach the table."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
import yaml
from rich.console import Console
from support.fake_openai_server import FakeOpenAIServer

from graftwork.core.base.workspace import Workspace
from graftwork.tui.app import GraftworkApp
from graftwork.tui.commands import palette_commands
from graftwork.tui.screens.help import HelpScreen
from graftwork.wiring import build_services
from tests.tui.fakes import with_fakes
from tests.tui.fixture_workspace import build_fixture
from tests.tui.helpers import main_screen, settle, until

KEY = "sk-tui-categories-KEY-77"


def _teacher_at(ws: Workspace, server: FakeOpenAIServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GW_TUI_CAT_KEY", KEY)
    config = yaml.safe_load(ws.config_path.read_text(encoding="utf-8")) or {}
    config["teacher"] = {
        "base_url": server.base_url,
        "api_key_env": "GW_TUI_CAT_KEY",
        "model": "teacher-cat",
        "retries": 0,
    }
    ws.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")


def _jsx_widgets(ws: Workspace) -> set[str]:
    with ws.catalog() as db:
        return {r[0] for r in db.execute("select item_id from analysis where is_jsx = 1")}


async def test_categories_from_the_runs_pane_show_the_spend_then_run(
    make_app, fixture_ws: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeOpenAIServer() as server:
        _teacher_at(fixture_ws, server, monkeypatch)
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            screen = await main_screen(pilot)
            await pilot.press("4", "k")
            await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmModal")
            text = " ".join(str(w.render()) for w in app.screen.query("Static"))
            assert "Ask the teacher for categories?" in text
            assert "teacher-cat" in text and "one of 9 categories each" in text
            assert "cost: up to $" in text and "input tokens" in text
            assert "categories: clock, calendar, system monitor" in text
            assert "5 calls" in text  # the fixture's JSX widgets but excluded spam...
            assert "will fail: gone: widget folder" in text  # ...and gone, never downloaded
            await pilot.press("n")  # no: nothing is sent
            await settle(pilot)
            assert server.requests == []

            await pilot.press("k")
            await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmModal")
            await pilot.press("y")
            await until(
                pilot,
                lambda: any(
                    j.kind == "teach.categories" and j.state != "running"
                    for j in screen.runs_pane.jobs.values()
                ),
                timeout=30,
            )
            job = next(j for j in screen.runs_pane.jobs.values() if j.kind == "teach.categories")
            assert job.state == "partial"  # gone failed with its cause; the others went on
            # the live catalog brings the categories to the widgets' rows
            await until(pilot, lambda: screen.rows["clock"].category == "clock")
    assert len(server.requests) == 5  # as estimated
    assert {r["body"]["model"] for r in server.requests} == {"teacher-cat"}
    assert len(server.served("ok")) == 5
    with fixture_ws.catalog() as db:
        got = dict(db.execute("select item_id, category from item_categories where state='ok'"))
        kinds = [r[0] for r in db.execute("select kind from jobs where kind like 'teach%'")]
    assert set(got) == _jsx_widgets(fixture_ws) - {"spam", "gone"} and got["clock"] == "clock"
    assert kinds == ["teach.categories"]  # the CLI's job kind, through the registry


async def test_the_key_is_remappable_and_in_help_and_palette(tmp_path: Path) -> None:
    ws = build_fixture(tmp_path / "ws", keymap={"runs.teach_categories": "K"})
    app = GraftworkApp(ws, with_fakes(build_services(ws)))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        helps = {c.title: c.help for c in palette_commands(screen)}
        assert helps["runs: teacher categories"].endswith("key K in Runs")
        await pilot.press("4", "K")
        await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmModal")
        await pilot.press("escape")
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        console = Console(width=160, record=True, file=io.StringIO())
        console.print(app.screen.text)
        line = next(x for x in console.export_text().splitlines() if "runs.teach_categories" in x)
        assert line.split()[0] == "K" and "Teacher categories" in line


async def test_other_recipes_are_told_categories_are_for_widgets(tmp_path: Path) -> None:
    ws = Workspace.init(tmp_path / "ws")
    config = ws.config_path.read_text(encoding="utf-8")
    ws.config_path.write_text(config.replace("recipe: uebersicht", "recipe: import"))
    app = GraftworkApp(ws, with_fakes(build_services(ws)))
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        assert "runs: teacher categories" not in {c.title for c in palette_commands(screen)}
        await pilot.press("4", "k")
        await until(pilot, lambda: any("Übersicht" in n.message for n in app._notifications))
        assert app.screen is screen  # no estimate, no confirmation
