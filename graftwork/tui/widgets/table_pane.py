"""What pane 1 does the same for widgets and for a recipe's items: the `/` filter box, its
escape, jumping to one item, and sorting by a column (again: reversed)."""

from __future__ import annotations

from typing import Any, ClassVar

from textual.widgets import Input


class TablePane:
    """Mixin for a pane with a filter Input ``#<prefix>-filter`` and a table
    ``#<prefix>-table``; the pane keeps ``filter_text``, ``selected_id``, ``sort_column``,
    ``sort_reverse`` and implements ``refresh_table()``."""

    prefix: ClassVar[str]
    filter_text: str
    selected_id: str | None
    sort_column: int
    sort_reverse: bool
    query_one: Any

    def refresh_table(self) -> None:
        raise NotImplementedError

    def _box(self) -> Input:
        return self.query_one(f"#{self.prefix}-filter", Input)

    def _focus_table(self) -> None:
        self.query_one(f"#{self.prefix}-table").focus()

    def action_filter(self) -> None:
        box = self._box()
        box.display = True
        box.focus()

    def action_clear_filter(self) -> None:
        box = self._box()
        box.value = ""
        box.display = False
        self.filter_text = ""
        self.refresh_table()
        self._focus_table()

    def show_item(self, item_id: str) -> None:
        """Filter the table down to one item (by id) and select it."""
        box = self._box()
        box.display = True
        box.value = item_id
        self.filter_text = item_id
        self.selected_id = None
        self.refresh_table()
        self._focus_table()

    def sort(self, column: int) -> None:
        if column == self.sort_column:
            self.sort_reverse = not self.sort_reverse
        else:
            self.sort_column, self.sort_reverse = column, False
        self.refresh_table()
