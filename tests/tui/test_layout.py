"""The workstation uses the terminal's width: columns fitted to it (long IDs whole on a wide
terminal, Tokens/Budget/Decision on screen at 80x24), side columns that follow the terminal
and move with `<` / `>`, `z` maximizes the focused region, the detail starts at the top for
each widget."""

from __future__ import annotations

from graftwork.tui import layout
from graftwork.tui.widgets.virtual_table import TableColumn, fit_columns
from tests.support.widget_rows import add_widget
from tests.tui.helpers import main_screen, settle, until

LONG_ID = "ubersicht-analog-clock-widget"  # 29 characters, like the gallery's


async def press(pilot, key: str) -> None:
    await pilot.press(key)
    await settle(pilot)


def test_fit_columns_drops_by_rank_then_grows_to_the_longest_value() -> None:
    cols = [
        TableColumn("ID", 10, grow=True),
        TableColumn("Name", 8, grow=True, drop=3),
        TableColumn("Kind", 6, drop=1),
        TableColumn("Tokens", 6),
    ]
    # everything fits: the spare width goes to ID and Name, each up to its longest value
    assert fit_columns(cols, 80, {0: 29, 1: 14}) == [(0, 29), (1, 14), (2, 6), (3, 6)]
    # too narrow for all: Kind (rank 1) goes first, Name (rank 3) only if still needed
    assert [i for i, _ in fit_columns(cols, 30, {0: 29, 1: 14})] == [0, 1, 3]
    assert [i for i, _ in fit_columns(cols, 20, {0: 29, 1: 14})] == [0, 3]
    # a growing column with no known longest value takes what is left
    assert fit_columns(cols, 60, {1: 12}) == [(0, 32), (1, 8), (2, 6), (3, 6)]
    # short of room for both, the ID is served first (it is what commands take)
    assert fit_columns(cols, 50, {0: 29, 1: 14}) == [(0, 22), (1, 8), (2, 6), (3, 6)]


def test_side_columns_follow_the_terminal_and_the_divider() -> None:
    assert layout.side_width("widgets", 80, layout.Divider()) == 24  # the table keeps 56
    assert layout.side_width("widgets", 160, layout.Divider()) == 48
    divider = layout.Divider()
    assert layout.move_divider("widgets", 160, divider, -layout.STEP) == 52  # left: wider
    assert layout.side_width("widgets", 160, divider) == 52
    # a chosen width never squeezes the main region below its minimum
    assert layout.side_width("widgets", 80, layout.Divider(side=70)) == 80 - layout.MIN_MAIN


async def test_80x24_shows_tokens_budget_and_decision(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot)
        table = screen.query_one("#widgets-table")
        shown = [label.lstrip("≈") for label in table.shown_columns]  # ≈: approximate counts
        assert {"ID", "Tokens", "Budget", "Decision"} <= set(shown)
        # what is left out goes in the documented order: DL first
        assert "DL" not in shown
        header = table.render_line(0).text
        assert "Decision" in header and "Tokens" in header


async def test_160_columns_show_long_ids_whole(make_app, fixture_ws) -> None:
    with fixture_ws.catalog() as db:
        add_widget(db, fixture_ws, LONG_ID, order=-1)
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await main_screen(pilot)
        table = screen.query_one("#widgets-table")
        assert [label.lstrip("≈") for label in table.shown_columns] == [
            "ID",
            "Name",
            "Category",
            "Kind",
            "DL",
            "Prompt",
            "Tokens",
            "Budget",
            "Decision",
        ]
        lines = [table.render_line(y).text for y in range(1, table.row_count + 1)]
        assert any(LONG_ID in line for line in lines), lines
        # the detail is not the old fixed 34 columns: it follows the terminal
        assert screen.query_one("#widgets-detail").outer_size.width == 48


async def test_divider_keys_resize_the_detail_and_columns_follow(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        detail = screen.query_one("#widgets-detail")
        before = detail.outer_size.width
        await pilot.press("less_than_sign", "less_than_sign")
        await settle(pilot)
        assert detail.outer_size.width == before + 2 * layout.STEP
        await pilot.press("greater_than_sign")
        await settle(pilot)
        assert detail.outer_size.width == before + layout.STEP


async def test_z_maximizes_the_focused_region_and_restores(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot)
        detail = screen.query_one("#widgets-detail")
        await pilot.press("tab")  # focus the detail
        await until(pilot, lambda: screen.focused is detail)
        await press(pilot, "z")
        assert screen.maximized is detail and detail.outer_size.width == 80
        await press(pilot, "z")
        assert screen.maximized is None and detail.outer_size.width == 24
        # the table maximizes with its filter and status line; columns left out come back
        table = screen.query_one("#widgets-table")
        assert not {"Category", "Prompt"} & set(table.shown_columns)
        table.focus()
        await press(pilot, "z")
        assert screen.maximized is screen.query_one("#widgets-left")
        assert {"Category", "Prompt"} <= set(table.shown_columns)
        await press(pilot, "escape")
        assert screen.maximized is None


async def test_maximize_works_inside_the_editor(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("2")
        await settle(pilot)
        editor = screen.prompt_pane.editor
        assert screen.focused is editor
        text = editor.text
        await press(pilot, "f11")
        assert screen.maximized is screen.query_one("#prompt-left")
        assert editor.text == text  # the key was not typed
        await press(pilot, "f11")
        assert screen.maximized is None


async def test_detail_starts_at_the_top_for_another_widget(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot)
        detail = screen.query_one("#widgets-detail")
        await until(pilot, lambda: detail.detail is not None and detail.detail.id == "clock")
        await settle(pilot)
        assert detail.max_scroll_y > 0
        detail.scroll_end(animate=False)
        await settle(pilot)
        assert detail.scroll_y > 0
        await pilot.press("down")
        await until(pilot, lambda: detail.detail is not None and detail.detail.id == "markup")
        await settle(pilot)
        assert detail.scroll_y == 0
