"""What pane 1 does the same for widgets and for a recipe's items: the `/` filter box and its
escape, jumping to one item, following the table's cursor, sorting by a column (`s` the next
one, `r` reversed, a header click that one, again: reversed) and the status line."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Static

from graftwork.tui.widgets.virtual_table import VirtualTable


def sort_bindings(prefix: str) -> list[BindingType]:
    """The table's sort keys, with binding ids of the pane (remappable, listed in help)."""
    return [
        Binding("s", "pane_sort", "Sort", id=f"{prefix}.sort", tooltip="Sort by the next column"),
        Binding("r", "pane_reverse", "Reverse", id=f"{prefix}.reverse", tooltip="Reverse the sort"),
    ]


class PaneTable(VirtualTable):
    """A TablePane's table: its sort keys ask the pane (which knows the columns' keys)."""

    def action_pane_sort(self) -> None:
        self.post_message(TablePane.SortRequest(None))

    def action_pane_reverse(self) -> None:
        self.post_message(TablePane.SortRequest(-1))


class TablePane(Vertical):
    """Pane 1's frame: a filter Input ``#<prefix>-filter``, a status line
    ``#<prefix>-status`` and a PaneTable ``#<prefix>-table``, composed by the subclass.

    The pane keeps ``filter_text``, ``selected_id``, ``sort_column`` (-1: the list's own
    order) and ``sort_reverse``; a subclass implements ``refresh_table(narrow)`` (filter and
    sort its rows into the table; ``narrow``: the filter text was extended by typing),
    ``sort_labels()`` (the sortable columns' labels), ``status_head()`` ("12 of 50
    widgets") and ``quick_label()`` (the quick filter's name, None when it shows all).
    Selecting a row posts ``messages.ItemSelected`` once per change of item."""

    prefix: ClassVar[str]

    class SortRequest(Message):
        """From the table's `s` / `r`: column None is the next column, -1 reverses."""

        def __init__(self, column: int | None) -> None:
            super().__init__()
            self.column = column

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.filter_text = ""
        self.selected_id: str | None = None
        self.sort_column = -1
        self.sort_reverse = False

    # -- what a subclass provides ----------------------------------------------------------
    def refresh_table(self, narrow: bool = False) -> None:
        raise NotImplementedError

    def sort_labels(self) -> list[str]:
        raise NotImplementedError

    def status_head(self) -> str:
        raise NotImplementedError

    def quick_label(self) -> str | None:
        raise NotImplementedError

    # -- parts -----------------------------------------------------------------------------
    def _box(self) -> Input:
        return self.query_one(f"#{self.prefix}-filter", Input)

    def _table(self) -> VirtualTable:
        return self.query_one(f"#{self.prefix}-table", VirtualTable)

    def _focus_table(self) -> None:
        self._table().focus()

    def _mine(self, table: VirtualTable) -> bool:
        return table.id == f"{self.prefix}-table"

    def _status(self) -> None:
        parts = [self.status_head()]
        quick = self.quick_label()
        if quick:
            parts.append(f"quick filter: {quick}")
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        if self.sort_column >= 0:
            arrow = "↓" if self.sort_reverse else "↑"
            parts.append(f"sort: {self.sort_labels()[self.sort_column]} {arrow}")
        # one line, fixed height: no layout pass (it would re-measure the detail beside it)
        self.query_one(f"#{self.prefix}-status", Static).update(
            Text("   ".join(parts), style="dim"), layout=False
        )

    def _select(self, item_id: str | None) -> None:
        from graftwork.tui.messages import ItemSelected

        if item_id != self.selected_id:
            self.selected_id = item_id
            self.post_message(ItemSelected(item_id))

    # -- actions ---------------------------------------------------------------------------
    def action_filter(self) -> None:
        box = self._box()
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self._box()
        if self.filter_text:
            self.filter_text = ""  # first: the box's watch then finds nothing to do
            self.refresh_table()
        box.value = ""
        box.display = False
        self._focus_table()

    def show_item(self, item_id: str) -> None:
        """Filter the table down to one item (by id) and select it."""
        box = self._box()
        box.display = True
        self.filter_text = item_id
        box.value = item_id
        self.selected_id = None
        self.refresh_table()
        self._focus_table()

    def sort(self, column: int) -> None:
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self.refresh_table()

    # -- events ----------------------------------------------------------------------------
    @on(VirtualTable.Highlighted)
    def _highlighted(self, event: VirtualTable.Highlighted) -> None:
        if self._mine(event.table):
            self._select(event.key)

    @on(VirtualTable.HeaderClicked)
    def _header(self, event: VirtualTable.HeaderClicked) -> None:
        if self._mine(event.table):
            self.sort(event.column)

    @on(SortRequest)
    def _sort_request(self, event: SortRequest) -> None:
        if event.column == -1:
            self.sort_reverse = not self.sort_reverse
            self.refresh_table()
        else:
            self.sort((self.sort_column + 1) % len(self.sort_labels()))

    def _on_mount(self) -> None:
        # Filter as the box's value changes, not on its Changed message: the table then
        # repaints in the same frame as the box (a message comes a frame later: two screen
        # updates per key, each costing as much as the filtering at 100,000 rows).
        self.watch(self._box(), "value", self._typed, init=False)

    def _typed(self, value: str) -> None:
        if value != self.filter_text:  # escape and show_item set both: nothing to do
            self.filter_text = value
            self.refresh_table(narrow=True)

    @on(Input.Submitted)
    def _filter_done(self, event: Input.Submitted) -> None:
        if event.input.id == f"{self.prefix}-filter":
            self._focus_table()
