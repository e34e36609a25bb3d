"""A virtual table for thousands of rows: only the visible lines are rendered (Line API), so
replacing the row list after a filter keystroke costs a list assignment, not one DataTable
add_row per row (DataTable spends ~65 µs per row: a third of a second for 5,000)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from typing import ClassVar

from rich.segment import Segment
from rich.style import Style
from rich.text import Text
from textual import events
from textual.binding import Binding, BindingType
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.widget import Widget

Cells = tuple[Text, ...]
GAP = 2  # one space either side of every cell


@dataclass(frozen=True)
class TableColumn:
    """A column's rules for the terminal's width: ``width`` is what it gets when space is
    short (longer values end in …); a ``grow`` column takes spare width up to its longest
    value; ``drop`` > 0 columns are left out, lowest first, when even the short widths do not
    fit (0: never dropped; the table scrolls sideways instead)."""

    label: str
    width: int
    grow: bool = False
    drop: int = 0

    def __iter__(self) -> Iterator[str | int]:
        """Unpacks as (label, width), like the tuples tables were given before."""
        return iter((self.label, self.width))


def as_column(spec: TableColumn | tuple[str, int | None]) -> TableColumn:
    """(label, width) tuples are fixed columns; a width of None grows (recipes' Column)."""
    if isinstance(spec, TableColumn):
        return spec
    label, width = spec
    return TableColumn(label, width or max(8, len(label)), grow=width is None)


def fit_columns(
    columns: Sequence[TableColumn], available: int, natural: dict[int, int]
) -> list[tuple[int, int]]:
    """(column index, width) of the columns shown in ``available`` cells: droppable columns
    go first (by rank) until the rest fit at their short widths, then the growing columns
    take the spare width left to right, each up to its ``natural`` (longest value) width (a
    growing column without one takes whatever is left)."""
    shown = list(range(len(columns)))

    def need() -> int:
        return sum(columns[i].width + GAP for i in shown)

    for index in sorted(
        (i for i, c in enumerate(columns) if c.drop), key=lambda i: columns[i].drop
    ):
        if need() <= available:
            break
        shown.remove(index)
    widths = {i: columns[i].width for i in shown}
    spare = available - need()
    for i in (i for i in shown if columns[i].grow):  # left to right: the ID before the name
        add = max(0, min(spare, natural.get(i, available) - widths[i]))
        widths[i] += add
        spare -= add
    return [(i, widths[i]) for i in shown]


class VirtualTable(ScrollView, can_focus=True):
    """Columns fitted to the width (fit_columns, again on every resize), one header line, a
    row cursor; rows given as keys plus a cell getter (cells are built once per row by the
    owner and cached there)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("home", "jump(0)", "First", show=False),
        Binding("end", "jump(-1)", "Last", show=False),
        Binding("enter", "select", "Select", show=False),
    ]
    COMPONENT_CLASSES: ClassVar[set[str]] = {
        "virtual-table--header",
        "virtual-table--cursor",
        "virtual-table--odd",
    }
    DEFAULT_CSS = """
    VirtualTable { background: $surface; }
    VirtualTable > .virtual-table--header { text-style: bold; background: $panel; }
    VirtualTable > .virtual-table--cursor { background: $block-cursor-background; color: $block-cursor-foreground; text-style: bold; }
    VirtualTable:blur > .virtual-table--cursor { background: $block-cursor-blurred-background; text-style: none; }
    VirtualTable > .virtual-table--odd { background: $surface-lighten-1 20%; }
    """

    cursor: reactive[int] = reactive(0, always_update=True, repaint=False)

    class Highlighted(Message):
        def __init__(self, table: VirtualTable, key: str | None) -> None:
            super().__init__()
            self.table = table
            self.key = key

        @property
        def control(self) -> VirtualTable:
            return self.table

    class HeaderClicked(Message):
        def __init__(self, table: VirtualTable, column: int) -> None:
            super().__init__()
            self.table = table
            self.column = column

        @property
        def control(self) -> VirtualTable:
            return self.table

    def __init__(
        self, columns: Sequence[TableColumn | tuple[str, int | None]], **kw: object
    ) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self._columns = [as_column(c) for c in columns]
        self.keys: list[str] = []
        self._cells: Callable[[str], Cells] = lambda key: ()
        self._lines: dict[str, Strip] = {}  # rendered rows (no cursor style) by key
        self._last_key: str | None = None
        self._natural: dict[int, int] = {}
        self._fitted_for: int | None = None  # the width the layout was fitted to
        self.fitted: list[tuple[int, int]] = [(i, c.width) for i, c in enumerate(self._columns)]
        self.width_total = self._least_width()

    # -- layout ----------------------------------------------------------------------------
    @property
    def columns(self) -> list[TableColumn]:
        return self._columns

    @columns.setter
    def columns(self, columns: Sequence[TableColumn | tuple[str, int | None]]) -> None:
        """New columns (a pane that fits them itself may pass (label, width) tuples)."""
        self._columns = [as_column(c) for c in columns]
        self.width_total = self._least_width()
        self.virtual_size = Size(self.width_total, len(self.keys) + 1)
        self._fitted_for = None
        self.refresh()

    def _least_width(self) -> int:
        """Sideways scrolling starts only below the columns that are never dropped."""
        return sum(c.width + GAP for c in self._columns if not c.drop)

    def relabel(self, label: Callable[[str], str]) -> None:
        """Change column headers in place (e.g. "≈Tokens" while counts are approximate)."""
        labels = [label(c.label) for c in self._columns]
        if labels != [c.label for c in self._columns]:
            self._columns = [
                replace(c, label=new) for c, new in zip(self._columns, labels, strict=True)
            ]
            self.refresh()

    def set_natural(self, natural: dict[int, int]) -> None:
        """The longest value (in cells) of growing columns; the layout follows."""
        if natural != self._natural:
            self._natural = dict(natural)
            self._fitted_for = None
            self.refresh()

    @property
    def shown_columns(self) -> list[str]:
        """Labels of the columns on screen now, left to right."""
        self._fit()
        return [self.columns[i].label for i, _ in self.fitted]

    def _fit(self) -> None:
        width = self.scrollable_content_region.width
        if width <= 0 or width == self._fitted_for:
            return
        natural = {i: max(n, len(self.columns[i].label)) for i, n in self._natural.items()}
        self.fitted = fit_columns(self.columns, width, natural)
        self._fitted_for = width
        self._lines.clear()

    # -- data ------------------------------------------------------------------------------
    @property
    def row_count(self) -> int:
        return len(self.keys)

    def set_rows(
        self, keys: list[str], cells: Callable[[str], Cells], keep: str | None = None
    ) -> None:
        self.keys, self._cells = keys, cells
        self.resize_virtual(Size(self.width_total, len(keys) + 1))
        try:  # one scan of the keys, not two (`in`, then `index`): 100,000 after a clear
            target = keys.index(keep) if keep is not None else 0
        except ValueError:
            target = 0
        self.move_cursor(target)
        self.refresh()

    def resize_virtual(self, size: Size) -> None:
        """A new virtual size without laying out the screen: Textual's ``virtual_size`` lays
        out every widget when it changes, a reflow per filter keystroke for a row count that
        moves only the scrollbar's thumb. A scrollbar that comes or goes still lays out (its
        own reactive says so)."""
        if size == self.virtual_size:
            return
        if not self.is_mounted or not self.container_size:
            self.virtual_size = size
            return
        self.set_reactive(Widget.virtual_size, size)
        self._scroll_update(size)  # scrollbars, and a scroll offset past the new end
        self.refresh()

    def refresh_key(self, key: str) -> None:
        """The cells of one row changed: drop its rendered line and repaint."""
        self._lines.pop(key, None)
        self.refresh()

    def clear_cache(self) -> None:
        self._lines.clear()
        self.refresh()

    def get_row(self, key: str) -> Cells:
        return self._cells(key)

    @property
    def cursor_key(self) -> str | None:
        return self.keys[self.cursor] if 0 <= self.cursor < len(self.keys) else None

    def move_cursor(self, row: int) -> None:
        self.cursor = max(0, min(row, len(self.keys) - 1))

    def watch_cursor(self, old: int, new: int) -> None:
        self._scroll_to_cursor()
        self.refresh()
        key = self.cursor_key
        if key != self._last_key:
            self._last_key = key
            self.post_message(self.Highlighted(self, key))

    def _scroll_to_cursor(self) -> None:
        body = max(1, self.scrollable_content_region.height - 1)
        top = int(self.scroll_y)
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False, immediate=True)
        elif self.cursor >= top + body:
            self.scroll_to(y=self.cursor - body + 1, animate=False, immediate=True)

    # -- rendering -------------------------------------------------------------------------
    def _text_line(self, cells: Sequence[Text]) -> Text:
        line = Text(no_wrap=True, overflow="crop", end="")
        for index, width in self.fitted:
            if index >= len(cells):
                break
            cell = cells[index]
            if cell.justify == "right" and cell.cell_len < width:
                cell = Text(" " * (width - cell.cell_len)) + cell
            else:
                cell = cell.copy()
            cell.truncate(width, overflow="ellipsis", pad=True)
            line.append(" ")
            line.append_text(cell)
            line.append(" ")
        return line

    def _strip(self, text: Text) -> Strip:
        segments = list(text.render(self.app.console))
        return Strip(segments, text.cell_len)

    def render_line(self, y: int) -> Strip:
        self._fit()  # a resize, a scrollbar come or gone, a longer value: fit anew
        width = self.scrollable_content_region.width
        scroll_x, scroll_y = self.scroll_offset
        if y == 0:
            header = self._text_line([Text(c.label) for c in self.columns])
            style = self.get_component_rich_style("virtual-table--header")
            return (
                self._strip(header)
                .crop_extend(scroll_x, scroll_x + width, style)
                .apply_style(style)
            )
        index = scroll_y + y - 1
        if index >= len(self.keys):
            return Strip([Segment(" " * width, self.rich_style)], width)
        key = self.keys[index]
        strip = self._lines.get(key)
        if strip is None:
            strip = self._lines[key] = self._strip(self._text_line(self._cells(key)))
            if len(self._lines) > 4000:  # bounded: a long scroll must not keep every line
                self._lines.pop(next(iter(self._lines)))
        base: Style = self.rich_style
        if index == self.cursor:
            base = base + self.get_component_rich_style("virtual-table--cursor")
        elif index % 2:
            base = base + self.get_component_rich_style("virtual-table--odd")
        return strip.crop_extend(scroll_x, scroll_x + width, base).apply_style(base)

    # -- input -----------------------------------------------------------------------------
    def action_cursor(self, delta: int) -> None:
        self.move_cursor(self.cursor + delta)

    def action_page(self, direction: int) -> None:
        self.move_cursor(
            self.cursor + direction * max(1, self.scrollable_content_region.height - 2)
        )

    def action_jump(self, where: int) -> None:
        self.move_cursor(len(self.keys) - 1 if where < 0 else 0)

    def action_select(self) -> None:
        self.post_message(self.Highlighted(self, self.cursor_key))

    def on_click(self, event: events.Click) -> None:
        offset = event.get_content_offset(self)
        if offset is None:  # on the border or scrollbar
            return
        if offset.y == 0:
            x = offset.x + int(self.scroll_x)
            edge = 0
            for index, width in self.fitted:
                edge += width + GAP
                if x < edge:
                    self.post_message(self.HeaderClicked(self, index))
                    break
            return
        self.move_cursor(int(self.scroll_y) + offset.y - 1)
