"""Pane 1, Widgets: every catalog item in a table with type-to-filter, sorting, quick filters
and curation keys; the selected item's detail beside it. Filtering and sorting work on rows
already in memory (loaded by a worker), so a keystroke never touches the catalog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Input, Static

from graftwork.tui.data import (
    NONE,
    WidgetRow,
    approximate_counts,
    filters_by_category,
    row_filter,
)
from graftwork.tui.widgets.detail import DetailView
from graftwork.tui.widgets.table_pane import TablePane
from graftwork.tui.widgets.virtual_table import TableColumn, VirtualTable

# (label, short width, sort key). ID and Name grow into the spare width up to their longest
# value; when even the short widths do not fit, DL, Kind, Prompt and Name are left out in
# that order (DROP_ORDER, docs/tui.md), so Tokens, Budget and Decision stay at 80 columns.
COLUMNS: list[tuple[str, int, Callable[[WidgetRow], Any]]] = [
    ("ID", 10, lambda r: r.id.casefold()),
    ("Name", 8, lambda r: r.name.casefold()),
    ("Kind", 6, lambda r: r.kind),
    ("DL", 3, lambda r: r.download),
    ("Prompt", 8, lambda r: r.prompt),
    ("Tokens", 7, lambda r: -1 if r.tokens is None else r.tokens),  # "≈Tokens" fits
    ("Budget", 7, lambda r: r.action),
    ("Decision", 10, lambda r: r.decision),
]
GROW = ("ID", "Name")
DROP_ORDER = ("DL", "Kind", "Prompt", "Name")
TABLE_COLUMNS = [
    TableColumn(
        label,
        width,
        grow=label in GROW,
        drop=DROP_ORDER.index(label) + 1 if label in DROP_ORDER else 0,
    )
    for label, width, _ in COLUMNS
]
DOWNLOAD = {"ok": "ok", "failed": "err"}

QUICK_FILTERS: dict[str, tuple[str, Callable[[WidgetRow], bool]]] = {
    "all": ("all", lambda r: True),
    # CoffeeScript and plain JS widgets never get a prompt (sets are built from JSX)
    "no_prompt": ("no prompt", lambda r: r.prompt == NONE and r.kind not in ("coffee", "js")),
    "over_budget": ("over budget", lambda r: r.over_by > 0 or r.action == "exclude"),
    # what build leaves out: a curation exclude or the budget's exclude
    "excluded": ("excluded", lambda r: r.decision == "exclude" or r.action == "exclude"),
    "needs_work": ("needs work", lambda r: r.decision == "needs_work"),
}

STYLE = {
    "ok": "green",
    "failed": "red",
    "keep": "green",
    "exclude": "red",
    "include": "green",
    "needs_work": "yellow",
    "accepted": "green",
    "draft": "yellow",
    "rejected": "red",
}


def cells(row: WidgetRow) -> tuple[Text, ...]:
    """Table cells as Text: user data is never parsed as markup."""
    tokens = Text(
        "—" if row.tokens is None else f"{row.tokens:,}",
        justify="right",
        style="red" if row.over_by > 0 else "",
    )
    return (
        Text(row.id),
        Text(row.name),
        Text(row.kind),
        Text(DOWNLOAD.get(row.download, row.download), STYLE.get(row.download, "")),
        Text(row.prompt, STYLE.get(row.prompt, "")),
        tokens,
        Text(row.action, STYLE.get(row.action, "")),
        Text(row.decision.replace("_", " "), STYLE.get(row.decision, "")),
    )


class WidgetTable(VirtualTable):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "pane_sort", "Sort", id="widgets.sort", tooltip="Sort by the next column"),
        Binding("r", "pane_reverse", "Reverse", id="widgets.reverse", tooltip="Reverse the sort"),
    ]

    def action_pane_sort(self) -> None:
        self.post_message(WidgetsPane.SortRequest(None))

    def action_pane_reverse(self) -> None:
        self.post_message(WidgetsPane.SortRequest(-1))


class WidgetsPane(TablePane, Vertical):
    prefix = "widgets"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash",
            "filter",
            "Filter",
            id="widgets.filter",
            tooltip="Type to filter by id, name or author",
        ),
        Binding(
            "f",
            "quick_filter",
            "Quick filter",
            id="widgets.quick_filter",
            tooltip="Cycle: all, no prompt, over budget, excluded, needs work",
        ),
        Binding(
            "i", "decide('include')", "Include", id="widgets.include", tooltip="Curation: include"
        ),
        Binding(
            "x", "decide('exclude')", "Exclude", id="widgets.exclude", tooltip="Curation: exclude"
        ),
        Binding(
            "w",
            "decide('needs_work')",
            "Needs work",
            id="widgets.needs_work",
            tooltip="Curation: needs work",
        ),
        Binding(
            "u",
            "decide('clear')",
            "Clear decision",
            id="widgets.clear_decision",
            tooltip="Curation: remove the decision (history keeps it)",
        ),
        Binding("n", "note", "Note", id="widgets.note", tooltip="Curation note"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="widgets.clear_filter"),
    ]

    class SortRequest(Message):
        def __init__(self, column: int | None) -> None:
            super().__init__()
            self.column = column  # None: next column, -1: reverse

    class Decide(Message):
        def __init__(self, item_id: str, decision: str | None, ask_note: bool = False) -> None:
            super().__init__()
            self.item_id = item_id
            self.decision = decision
            self.ask_note = ask_note

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.rows: list[WidgetRow] = []
        self.by_id: dict[str, WidgetRow] = {}
        self._cells: dict[str, tuple[Text, ...]] = {}
        self.shown: list[WidgetRow] = []
        self.filter_text = ""
        self.quick = "all"
        self.sort_column = -1  # -1: manifest order
        self.sort_reverse = False
        self.selected_id: str | None = None
        self._approximate = False  # the Tokens header says approximate
        self._longest = [0, 0]  # the longest ID and Name (cells): how far those columns grow

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="widgets-left"):
                yield Input(
                    placeholder="filter: id, name or author; category:NAME", id="widgets-filter"
                )
                yield Static(id="widgets-status")
                yield WidgetTable(TABLE_COLUMNS, id="widgets-table")
            yield DetailView(id="widgets-detail")

    def on_mount(self) -> None:
        self.query_one("#widgets-filter").display = False
        self._status()

    # -- data ------------------------------------------------------------------------------
    def set_rows(self, rows: list[WidgetRow]) -> None:
        self.rows = rows
        self.by_id = {r.id: r for r in rows}
        self._cells = {r.id: cells(r) for r in rows}
        self._longest = [
            max((c[i].cell_len for c in self._cells.values()), default=0) for i in (0, 1)
        ]
        table = self.query_one(WidgetTable)
        table.set_natural(dict(enumerate(self._longest)))
        table.clear_cache()
        self._token_header()
        self.refresh_table()

    def update_row(self, row: WidgetRow) -> None:
        """Repaint one row in place: no re-filter or re-sort, so typing stays cheap and the
        cursor does not jump (the next filter or sort places the row anew)."""
        old = self.by_id.get(row.id)
        if old is None:
            self.rows.append(row)
        elif old is not row:  # the live count changes its row in place: no search of every row
            self.rows[self.rows.index(old)] = row
        self.by_id[row.id] = row
        self._cells[row.id] = row_cells = cells(row)
        if row.tokens is not None and approximate_counts([row]) != self._approximate:
            self._token_header()
        table = self.query_one(WidgetTable)
        if any(row_cells[i].cell_len > self._longest[i] for i in (0, 1)):  # a longer name
            self._longest = [max(self._longest[i], row_cells[i].cell_len) for i in (0, 1)]
            table.set_natural(dict(enumerate(self._longest)))
        table.refresh_key(row.id)

    def _token_header(self) -> None:
        """ "≈Tokens" while any count comes from a stand-in tokenizer (see graftwork doctor)."""
        self._approximate = approximate_counts(self.rows)
        table = self.query_one(WidgetTable)
        label = "≈Tokens" if self._approximate else "Tokens"
        table.relabel(lambda old: label if old.endswith("Tokens") else old)

    def reorders(self) -> bool:
        """Whether a changed row can move or leave the view (a quick filter or sort is on)."""
        return self.quick != "all" or self.sort_column >= 0 or filters_by_category(self.filter_text)

    def refresh_table(self) -> None:
        matches = row_filter(self.filter_text)  # text, and `category:NAME` terms
        keep = QUICK_FILTERS[self.quick][1]
        visible = [r for r in self.rows if keep(r) and matches(r)]
        if self.sort_column >= 0:
            key = COLUMNS[self.sort_column][2]
            visible.sort(key=key, reverse=self.sort_reverse)
        elif self.sort_reverse:
            visible.reverse()
        self.shown = visible
        self.query_one(WidgetTable).set_rows(
            [r.id for r in visible], self._cells.__getitem__, keep=self.selected_id
        )
        self._status()
        if not visible:
            self._select(None)

    def _status(self) -> None:
        parts = [f"{len(self.shown)} of {len(self.rows)} widgets"]
        if self.quick != "all":
            parts.append(f"quick filter: {QUICK_FILTERS[self.quick][0]}")
        if self.filter_text:
            parts.append(f"filter: {self.filter_text}")
        if self.sort_column >= 0:
            arrow = "↓" if self.sort_reverse else "↑"
            parts.append(f"sort: {COLUMNS[self.sort_column][0]} {arrow}")
        self.query_one("#widgets-status", Static).update(Text("   ".join(parts), style="dim"))

    def _select(self, item_id: str | None) -> None:
        from graftwork.tui.messages import ItemSelected

        if item_id != self.selected_id:
            self.selected_id = item_id
            self.post_message(ItemSelected(item_id))

    # -- events ----------------------------------------------------------------------------
    @on(VirtualTable.Highlighted, "#widgets-table")
    def _highlighted(self, event: VirtualTable.Highlighted) -> None:
        self._select(event.key)

    @on(VirtualTable.HeaderClicked, "#widgets-table")
    def _header(self, event: VirtualTable.HeaderClicked) -> None:
        self.sort(event.column)

    @on(SortRequest)
    def _sort_request(self, event: SortRequest) -> None:
        if event.column == -1:
            self.sort_reverse = not self.sort_reverse
            self.refresh_table()
        else:
            self.sort((self.sort_column + 1) % len(COLUMNS))

    @on(Input.Changed, "#widgets-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.filter_text = event.value
        self.refresh_table()

    @on(Input.Submitted, "#widgets-filter")
    def _filter_done(self) -> None:
        self.query_one(WidgetTable).focus()

    # -- actions ---------------------------------------------------------------------------
    def action_quick_filter(self, name: str | None = None) -> None:
        names = list(QUICK_FILTERS)
        self.quick = (
            name if name in QUICK_FILTERS else names[(names.index(self.quick) + 1) % len(names)]
        )
        self.refresh_table()

    def action_decide(self, decision: str) -> None:
        if self.selected_id:
            self.post_message(self.Decide(self.selected_id, decision))

    def action_note(self) -> None:
        if self.selected_id:
            self.post_message(self.Decide(self.selected_id, None, ask_note=True))
