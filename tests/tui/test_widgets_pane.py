"""Widgets pane: filter and select, sort, quick filters, curation keys, bad input."""

from __future__ import annotations

from graftwork.tui.widgets.virtual_table import VirtualTable
from graftwork.tui.widgets.widgets_pane import WidgetsPane
from tests.tui.helpers import main_screen, settle, until


async def test_filter_and_select_shows_detail(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        table = screen.query_one("#widgets-table", VirtualTable)
        assert table.row_count == 9
        await pilot.press("slash", *"weath")
        assert table.row_count == 1
        await pilot.press("enter")
        await until(pilot, lambda: screen.selected_id == "weather")
        await settle(pilot)
        info = str(screen.query_one("#detail-info").render())
        assert "天気 Weather ☀️" in info and "https://github.com/example/weather" in info
        assert "index.jsx" in str(screen.query_one("#detail-files").render())
        # the editor follows the selection
        assert "東京" in screen.prompt_pane.editor.text


async def test_markup_characters_are_shown_literally(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        table = screen.query_one("#widgets-table", VirtualTable)
        table.move_cursor(row=1)
        await until(pilot, lambda: screen.selected_id == "markup")
        await settle(pilot)
        assert str(table.get_row("markup")[1]) == "[bold]Not Bold[/bold]"
        assert "[red]Mallory" in str(screen.query_one("#detail-info").render())


async def test_detail_says_needs_work_as_the_table_does(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        screen.query_one("#widgets-table", VirtualTable).move_cursor(row=2)
        await until(pilot, lambda: screen.query_one("#widgets-detail").detail is not None)
        await until(pilot, lambda: screen.query_one("#widgets-detail").detail.id == "weather")
        info = str(screen.query_one("#detail-info").render())
        assert "decision needs work" in info and "needs_work" not in info


async def test_deleted_download_folder_is_explained(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        screen.query_one("#widgets-table", VirtualTable).move_cursor(row=5)
        await until(pilot, lambda: screen.selected_id == "gone")
        await settle(pilot)
        assert "is missing" in str(screen.query_one("#detail-files").render())
        assert "cannot count" in screen.prompt_pane.gauge.note


async def test_sort_and_quick_filters(make_app) -> None:
    # No live gauge here: the word-counting stand-in would overlay the selected item's stored
    # count as the cursor rests on it (a loaded box lets it), moving "huge" out of the
    # over-budget filters mid-test. The overlay has its own tests (test_prompt_pane).
    app = make_app(token_counter=None)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.query_one(WidgetsPane)
        pane.sort(pane.sort_labels().index("Tokens"))  # ascending: uncounted first, huge last
        assert pane.shown[-1].id == "huge"
        await pilot.press("r")
        assert pane.shown[0].id == "huge"
        await pilot.press("f")  # no prompt
        assert {r.id for r in pane.shown} == {"nope", "broken"}  # CoffeeScript never gets one
        await pilot.press("f")  # over budget
        assert [r.id for r in pane.shown] == ["huge"]
        await pilot.press("f")  # excluded
        assert [r.id for r in pane.shown] == [
            "huge",
            "spam",
        ]  # curation or budget: what build leaves out
        await pilot.press("f")  # needs work
        assert [r.id for r in pane.shown] == ["weather"]


async def test_exclude_key_stores_decision_and_changes_strategy(make_app, fixture_ws) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        before = screen.budget_pane.current_preview()
        await until(pilot, lambda: screen.selected_id == "clock")
        await pilot.press("x")
        await until(pilot, lambda: screen.rows["clock"].decision == "exclude")
        after = screen.budget_pane.current_preview()
        assert after.keep == before.keep - 1
        assert after.curated_out == before.curated_out + 1
    db = fixture_ws.catalog()
    assert db["curation"].get("clock")["decision"] == "exclude"
    assert (
        db.execute("select count(*) from curation_history where item_id='clock'").fetchone()[0] == 1
    )


async def test_mouse_selects_rows_and_sorts_by_header(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        table = screen.query_one("#widgets-table", VirtualTable)
        await pilot.click("#widgets-table", offset=(5, 3))  # y: border, header, clock, markup
        await until(pilot, lambda: screen.selected_id == "markup")
        assert table.cursor_key == "markup"
        await pilot.click("#widgets-table", offset=(14, 1))  # the Name header
        assert screen.widgets_pane.sort_column == 1
        assert table.keys[:2] == ["markup", "clock"]  # "[bold]…" < "Analog Clock"


async def test_note_key_stores_a_curation_note(make_app, fixture_ws) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await until(pilot, lambda: screen.selected_id == "clock")
        await pilot.press("n")
        await until(pilot, lambda: app.screen.__class__.__name__ == "FormModal")
        await pilot.press(*"fix[bold]", "enter")
        await until(pilot, lambda: app.screen is screen)
        await settle(pilot)
    row = fixture_ws.catalog()["curation"].get("clock")
    assert (row["decision"], row["note"]) == ("include", "fix[bold]")  # the decision is kept


async def test_detail_follows_a_decision_and_note(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await until(pilot, lambda: screen.selected_id == "clock")
        await settle(pilot)
        assert "decision include" in str(screen.query_one("#detail-info").render())
        await pilot.press("x")
        await until(
            pilot, lambda: "decision exclude" in str(screen.query_one("#detail-info").render())
        )
        await pilot.press("n")
        await until(pilot, lambda: app.screen.__class__.__name__ == "FormModal")
        await pilot.press(*"[b]why", "enter")
        await until(pilot, lambda: "[b]why" in str(screen.query_one("#detail-info").render()))


async def test_stand_in_counts_are_labelled_approximate(make_app) -> None:
    """Counts from tiktoken (no Apple toolkit configured) say so in the Tokens header and the
    Budget pane; the trainer's own tokenizer's counts do not."""
    from dataclasses import replace

    from graftwork.tui.widgets.budget_pane import BudgetPane

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.query_one(WidgetsPane)
        table = screen.query_one("#widgets-table", VirtualTable)
        budget = screen.query_one(BudgetPane)
        await pilot.press("3")  # the Budget pane draws while shown (hidden, it waits)
        await settle(pilot)
        labels = [label for label, _ in table.columns]
        assert "Tokens" in labels and "≈Tokens" not in labels
        assert "approximate" not in str(budget.query_one("#budget-preview").render())
        stand_in = [replace(r, tokenizer="tiktoken:cl100k_base") for r in pane.rows]
        pane.set_rows(stand_in)
        budget.set_rows(stand_in)
        await settle(pilot)
        assert "≈Tokens" in [label for label, _ in table.columns]
        assert "approximate" in str(budget.query_one("#budget-preview").render())
        pane.set_rows([replace(r, tokenizer="apple:0123") for r in stand_in])
        assert "Tokens" in [label for label, _ in table.columns]


async def test_category_filter_syntax(make_app, fixture_ws) -> None:
    """`category:NAME` (or `cat:`) keeps the widgets the teacher put in that category; a
    category stored by another process shows up live."""
    from graftwork.core.curate.categories import record

    with fixture_ws.catalog() as db:
        record(db, "weather", category="weather")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        table = screen.query_one("#widgets-table", VirtualTable)
        await pilot.press("slash", *"cat:weath")
        assert table.row_count == 1 and table.keys == ["weather"]
        pane = screen.query_one(WidgetsPane)
        pane.filter_text = 'category:"system monitor"'
        pane.refresh_table()
        assert table.row_count == 0
        with fixture_ws.catalog() as db:  # as `teach categories` in another process would
            record(db, "markup", category="system monitor")
        await until(pilot, lambda: table.row_count == 1)
        pane.filter_text = "category:none"
        pane.refresh_table()
        assert table.row_count == len(pane.rows) - 2


def test_the_prompt_gauge_marks_stand_in_counts() -> None:
    from graftwork.tui.widgets.token_gauge import gauge_text

    assert str(gauge_text(1234, 4095, approximate=True)).startswith("≈1,234 / 4,095 tokens")
    assert str(gauge_text(1234, 4095)).startswith("1,234 / 4,095 tokens")


async def test_category_column_sorts_and_follows_a_live_change(make_app, fixture_ws) -> None:
    """The Category column shows what `teach categories` stored (— for none), sorts (widgets
    without one last), the detail says it, and a category stored by another process (as a
    `teach categories` run would) repaints the cell, the sort order and the detail."""
    from graftwork.core.curate.categories import record

    with fixture_ws.catalog() as db:
        record(db, "weather", category="weather")
        record(db, "spam", category="clock")
    app = make_app()
    async with app.run_test(size=(160, 50)) as pilot:  # wide enough for every column
        screen = await main_screen(pilot)
        pane = screen.widgets_pane
        table = pane.query_one("#widgets-table", VirtualTable)
        assert "Category" in table.shown_columns
        column = [label for label, _ in table.columns].index("Category")
        assert str(table.get_row("weather")[column]) == "weather"
        assert str(table.get_row("clock")[column]) == "—"
        pane.sort(column)
        assert [r.id for r in pane.shown[:2]] == ["spam", "weather"]
        assert "sort: Category ↑" in str(pane.query_one("#widgets-status").render())
        table.move_cursor(table.keys.index("weather"))
        detail = screen.query_one("#widgets-detail")
        info = screen.query_one("#detail-info")
        await until(pilot, lambda: detail.detail is not None and detail.detail.id == "weather")
        assert "category weather" in str(info.render())

        with fixture_ws.catalog() as db:
            record(db, "clock", category="calendar")
            record(db, "weather", category="media")
        await until(pilot, lambda: [r.id for r in pane.shown[:3]] == ["clock", "spam", "weather"])
        await until(pilot, lambda: "category media" in str(info.render()))
        assert str(table.get_row("clock")[column]) == "calendar"
        assert table.cursor_key == "weather" and screen.selected_id == "weather"
        await settle(pilot)
        painted = table.render_line(table.keys.index("weather") + 1).text
        assert "media" in painted
