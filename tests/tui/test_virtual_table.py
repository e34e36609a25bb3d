"""VirtualTable: a new row count moves the scrollbar without a screen layout, but a
scrollbar that comes or goes, and a scroll offset past the new end, still follow."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from graftwork.tui.widgets.virtual_table import VirtualTable


def cells(key: str) -> tuple[Text, ...]:
    return (Text(key), Text(f"value of {key}"))


class TableApp(App[None]):
    def compose(self) -> ComposeResult:
        yield VirtualTable([("Key", 10), ("Value", 20)], id="table")


async def test_row_count_changes_keep_scrollbar_and_offset_true() -> None:
    many = [f"row{n:03d}" for n in range(200)]
    app = TableApp()
    async with app.run_test(size=(50, 12)) as pilot:
        table = app.query_one(VirtualTable)
        table.set_rows(many, cells)
        await pilot.pause()
        assert table.show_vertical_scrollbar
        table.action_jump(-1)  # the last row: scrolled to the end
        await pilot.pause()
        assert table.scroll_y > 150
        table.set_rows(many[:3], cells, keep="row002")
        await pilot.pause()
        assert table.scroll_y == 0 and not table.show_vertical_scrollbar
        assert table.cursor_key == "row002"
        lines = [table.render_line(y).text for y in range(1, 4)]
        assert [line.split()[0] for line in lines] == ["row000", "row001", "row002"]
        table.set_rows(many, cells, keep="row150")
        await pilot.pause()
        assert table.show_vertical_scrollbar and table.cursor_key == "row150"
        top = int(table.scroll_y)
        assert top <= 150 < top + table.scrollable_content_region.height
        assert table.virtual_size.height == 201
