"""Pictures of each pane at 120x40 on the fixture workspace (fake token counter, fixed
timestamps, no clock, cursor blink off). Regenerate after reviewing the report with
`pytest tests/tui/test_snapshots.py --snapshot-update`."""

from __future__ import annotations

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, TextArea

from tests.tui.helpers import main_screen, settle, until

SIZE = (120, 40)


async def _ready(pilot: Pilot) -> None:
    screen = await main_screen(pilot)
    await until(pilot, lambda: screen.prompt_pane.item_id == "clock")
    await until(pilot, lambda: screen.prompt_pane.gauge.total is not None)
    for node in [*screen.query(Input), *screen.query(TextArea)]:
        node.cursor_blink = False
    await settle(pilot)


def _before(*keys: str):
    async def run(pilot: Pilot) -> None:
        await _ready(pilot)
        if keys:
            await pilot.press(*keys)
        await settle(pilot)
        for node in [*pilot.app.screen.query(Input), *pilot.app.screen.query(TextArea)]:
            node.cursor_blink = False
        await pilot.pause()

    return run


@pytest.mark.parametrize(
    "name, keys",
    [
        ("widgets", ()),
        ("prompt", ("2",)),
        ("budget", ("3",)),
        ("runs", ("4",)),
        ("widgets_filtered", ("slash", *"bold")),
        ("help", ("f1",)),
    ],
)
def test_pane_snapshot(snap_compare, make_app, name: str, keys: tuple[str, ...]) -> None:
    assert snap_compare(make_app(), terminal_size=SIZE, run_before=_before(*keys))


def test_too_small_snapshot(snap_compare, make_app) -> None:
    assert snap_compare(make_app(), terminal_size=(60, 16), run_before=_before())


def test_wide_characters_snapshot(snap_compare, make_app) -> None:
    """Emoji and wide characters in a name and a prompt keep the layout aligned."""

    async def run(pilot: Pilot) -> None:
        await _ready(pilot)
        screen = pilot.app.screen
        screen.query_one("#widgets-table").move_cursor(2)
        await until(pilot, lambda: screen.prompt_pane.item_id == "weather")
        await until(pilot, lambda: screen.prompt_pane.gauge.total is not None)
        await pilot.press("2")
        await settle(pilot)
        for node in [*screen.query(Input), *screen.query(TextArea)]:
            node.cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=SIZE, run_before=run)
