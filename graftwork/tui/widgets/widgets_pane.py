"""Pane 1, Widgets: every catalog item in a table with type-to-filter, sorting, quick filters
and curation keys; the selected item's detail beside it. Filtering and sorting work on rows
already in memory (loaded by a worker), so a keystroke never touches the catalog."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
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
from graftwork.tui.widgets.table_pane import PaneTable, TablePane, sort_bindings
from graftwork.tui.widgets.virtual_table import TableColumn

# (label, short width, sort key). ID and Name grow into the spare width up to their longest
# value, then Category; when even the short widths do not fit, DL, Kind, Category, Prompt and
# Name are left out in that order (DROP_ORDER, docs/tui.md), so Tokens, Budget and Decision
# stay at 80 columns. Category goes before Prompt: the detail beside the table shows it too,
# and the prompt's state is what curation works through. Recipe uebersicht's `columns` say
# the same labels and widths (a test holds them equal).
COLUMNS: list[tuple[str, int, Callable[[WidgetRow], Any]]] = [
    ("ID", 10, lambda r: r.id.casefold()),
    ("Name", 8, lambda r: r.name.casefold()),
    ("Category", 8, lambda r: (not r.category, r.category.casefold())),  # none last
    ("Kind", 6, lambda r: r.kind),
    ("DL", 3, lambda r: r.download),
    ("Prompt", 8, lambda r: r.prompt),
    ("Tokens", 7, lambda r: -1 if r.tokens is None else r.tokens),  # "≈Tokens" fits
    ("Budget", 7, lambda r: r.action),
    ("Decision", 10, lambda r: r.decision),
]
GROW = ("ID", "Name", "Category")
DROP_ORDER = ("DL", "Kind", "Category", "Prompt", "Name")
GROWING = [i for i, (label, _, _) in enumerate(COLUMNS) if label in GROW]
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
        Text(row.category) if row.category else Text(NONE, style="dim"),
        Text(row.kind),
        Text(DOWNLOAD.get(row.download, row.download), STYLE.get(row.download, "")),
        Text(row.prompt, STYLE.get(row.prompt, "")),
        tokens,
        Text(row.action, STYLE.get(row.action, "")),
        Text(row.decision.replace("_", " "), STYLE.get(row.decision, "")),
    )


class WidgetTable(PaneTable):
    BINDINGS: ClassVar[list[BindingType]] = sort_bindings("widgets")


class WidgetsPane(TablePane):
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
        self.quick = "all"
        self._approximate = False  # the Tokens header says approximate
        # the longest value (cells) of each growing column: how far it grows
        self._longest = dict.fromkeys(GROWING, 0)

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
        self._longest = {
            i: max((c[i].cell_len for c in self._cells.values()), default=0) for i in GROWING
        }
        table = self.query_one(WidgetTable)
        table.set_natural(self._longest)
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
        if any(row_cells[i].cell_len > n for i, n in self._longest.items()):  # a longer name
            self._longest = {i: max(n, row_cells[i].cell_len) for i, n in self._longest.items()}
            table.set_natural(self._longest)
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

    def refresh_table(self, narrow: bool = False) -> None:
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

    def sort_labels(self) -> list[str]:
        return [label for label, _, _ in COLUMNS]

    def status_head(self) -> str:
        return f"{len(self.shown)} of {len(self.rows)} widgets"

    def quick_label(self) -> str | None:
        return None if self.quick == "all" else QUICK_FILTERS[self.quick][0]

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
