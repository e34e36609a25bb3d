"""Pane 1 for every recipe other than uebersicht: the recipe's items in the columns it
declares (recipes/views.py is the contract), with type-to-filter, sorting, the view's quick
filters and actions, the selected item's sections beside the table, and the recipe's
dashboard (`d`). Rows arrive from worker threads; filtering and sorting work on rows already
in memory, so a keystroke never touches the catalog.

Typing a filter narrows the rows already shown when the new text extends the old one, and
each row's search text is built once (on first use), so a keystroke over 100,000 rows is a
substring test per row, not a string join."""

from __future__ import annotations

from collections.abc import Sequence
from itertools import compress
from typing import Any, ClassVar

from rich.console import Group, RenderableType
from rich.markdown import Markdown
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingsMap, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, Static

from graftwork.core.recipes import Column
from graftwork.core.recipes.views import ItemAction, QuickFilter, Section
from graftwork.tui.widgets.table_pane import PaneTable, TablePane, sort_bindings

NONE = "—"
FLEX_MIN = 8  # a flexible column never gets narrower than this
STYLE = {
    "include": "green",
    "exclude": "red",
    "needs_work": "yellow",
    "keep": "green",
    "accepted": "green",
    "rejected": "red",
    "draft": "yellow",
    "done": "green",
    "failed": "red",
}
ALL = QuickFilter("all", lambda r: True)


def cell(value: Any) -> Text:
    """One table cell (plain Text: user data is never parsed as markup)."""
    if value is None or value == "":
        return Text(NONE, style="dim")
    if isinstance(value, bool):
        return Text("yes" if value else "no")
    if isinstance(value, int | float):
        return Text(f"{value:,}", justify="right")
    text = str(value)
    if "\n" in text:
        text = " ".join(text.split())
    return Text(text.replace("_", " ") if text in STYLE else text, style=STYLE.get(text, ""))


def haystack(row: dict[str, Any], columns: Sequence[Column]) -> str:
    """What `/` searches in a row: its id and every column's value, casefolded."""
    values = [row["id"], *(row.get(c.key) for c in columns)]
    return "\n".join(str(v) for v in values if v is not None).casefold()


def haystacks(rows: list[dict[str, Any]], columns: Sequence[Column]) -> list[str]:
    """Every row's search text, aligned with ``rows``: built by the loading worker, so no
    keystroke builds them."""
    return [haystack(r, columns) for r in rows]


def sort_key(value: Any) -> tuple[int, Any]:
    """Numbers before text before empty, each in its own order (mixed columns never raise)."""
    if value is None or value == "":
        return (2, "")
    if isinstance(value, int | float):
        return (0, value)
    return (1, str(value).casefold())


def fit_columns(columns: Sequence[Column], width: int) -> list[tuple[str, int]]:
    """Fixed widths as declared; the room left is shared by the flexible (width None) ones."""
    fixed = sum((c.width or 0) + 2 for c in columns)
    flex = [c for c in columns if c.width is None]
    share = max(FLEX_MIN, (width - fixed) // len(flex) - 2) if flex else 0
    return [(c.label, c.width if c.width is not None else share) for c in columns]


class ItemTable(PaneTable):
    BINDINGS: ClassVar[list[BindingType]] = sort_bindings("items")

    def __init__(self, declared: Sequence[Column], **kw: Any) -> None:
        super().__init__(fit_columns(declared, 80), **kw)
        self.declared = list(declared)

    def on_resize(self) -> None:
        """Flexible columns share the width the table has now."""
        width = self.scrollable_content_region.width
        if width > 0:
            self.set_columns(fit_columns(self.declared, width))

    def set_columns(self, columns: list[tuple[str, int]]) -> None:
        if columns != [tuple(c) for c in self.columns]:
            self.columns = columns
            self.width_total = sum(w + 2 for _, w in columns)
            self.resize_virtual(self.virtual_size.with_width(self.width_total))
            self.clear_cache()


def render_section(section: Section) -> RenderableType:
    if section.syntax == "markdown":
        return Markdown(section.text)
    if section.syntax:
        return Syntax(section.text, section.syntax, theme="monokai", word_wrap=True)
    return Text(section.text)


def blocks_of(sections: list[Section]) -> list[list[Section]]:
    """Consecutive sections sharing a group form one block (shown side by side)."""
    blocks: list[list[Section]] = []
    for section in sections:
        if blocks and section.group and blocks[-1][0].group == section.group:
            blocks[-1].append(section)
        else:
            blocks.append([section])
    return blocks


def _titled(section: Section) -> Group:
    return Group(Text(section.title, style="bold"), render_section(section), Text(""))


class SectionsView(VerticalScroll, can_focus=True):
    """The selected item's sections top to bottom; sections sharing a group side by side.
    One Static holds them all (a rich Group, side-by-side blocks as a grid): mounting a widget
    per section made every change of item restyle and re-measure a dozen widgets."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.item_id: str | None = None
        self.sections: list[Section] = []
        self.blocks: list[list[Section]] = []

    def compose(self) -> ComposeResult:
        yield Static(Text("Select an item", style="dim"), id="items-detail-body")

    def show(self, item_id: str | None, sections: list[Section]) -> None:
        if item_id == self.item_id and sections == self.sections:
            return
        if item_id != self.item_id:
            self.scroll_home(animate=False)  # a new item starts at its top; a refresh stays put
        self.item_id, self.sections = item_id, sections
        self.blocks = blocks_of(sections)
        body = self.query_one("#items-detail-body", Static)
        if item_id is None:
            body.update(Text("Select an item", style="dim"))
            return
        parts: list[RenderableType] = []
        for block in self.blocks:
            if len(block) == 1:
                parts.append(_titled(block[0]))
                continue
            grid = Table.grid(expand=True, padding=(0, 1))
            for _ in block:
                grid.add_column(ratio=1)
            grid.add_row(*(_titled(s) for s in block))
            parts.append(grid)
        body.update(Group(*parts))


class ItemsPane(TablePane):
    prefix = "items"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "slash", "filter", "Filter", id="items.filter", tooltip="Type to filter every column"
        ),
        Binding(
            "f", "quick_filter", "Quick filter", id="items.quick_filter", tooltip="Next filter"
        ),
        Binding(
            "d",
            "dashboard",
            "Dashboard",
            id="items.dashboard",
            tooltip="The recipe's pipeline with its counts (again: the item)",
        ),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="items.clear_filter"),
    ]

    class RunAction(Message):
        """The user asked for one of the view's actions on an item (the screen runs it)."""

        def __init__(self, action: ItemAction, item_id: str) -> None:
            super().__init__()
            self.action = action
            self.item_id = item_id

    class DashboardRequest(Message):
        pass

    def __init__(self, view: Any, columns: Sequence[Column], noun: str = "items", **kw: Any):
        super().__init__(**kw)
        self.view = view
        self.columns = list(columns)
        self.noun = noun
        self.actions: dict[str, ItemAction] = {a.id: a for a in getattr(view, "actions", ())}
        self.filters: list[QuickFilter] = [ALL, *getattr(view, "filters", ())]
        self.rows: list[dict[str, Any]] = []
        self.by_id: dict[str, dict[str, Any]] = {}
        self._cells: dict[str, tuple[Text, ...]] = {}
        # The search text of every row (aligned with rows and their ids) and of every shown
        # row (aligned with shown): a filter is one mask over a list, no lookup per row.
        self._ids: list[str] = []
        self._hays: list[str] = []
        self._index: dict[str, int] | None = None  # id -> position in rows (built on need)
        self.shown: list[str] = []
        self._shown_needle: str | None = None
        # The rows the quick filter keeps in the sort's order, with their search texts, for
        # the (quick, sort column, reverse) they were made for: what a text filter searches
        # and what escape restores, so neither sorts nor copies 100,000 rows again.
        self._base: tuple[tuple[int, int, bool], list[str], list[str]] | None = None
        self._shown_hays: list[str] = []  # the search text of each shown row, aligned
        self.quick = 0
        self.complete = False  # every row is in (the first screenful comes first)
        self.dashboard_shown = False
        # The view's actions are this pane's keys, with their binding ids (remappable).
        extra = self.action_bindings(view)
        if extra:
            self._bindings = BindingsMap.merge([self._bindings, BindingsMap(extra)])

    @staticmethod
    def action_bindings(view: Any) -> list[Binding]:
        """The bindings the view's actions get (for help and the keymap check)."""
        return [
            Binding(a.key, f"item_action({a.id!r})", a.label, id=a.id, tooltip=a.label)
            for a in getattr(view, "actions", ())
        ]

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="items-left"):
                yield Input(placeholder="filter: any column", id="items-filter")
                yield Static(id="items-status")
                yield ItemTable(self.columns, id="items-table")
            with Vertical(id="items-right"):
                yield SectionsView(id="items-detail")
                with VerticalScroll(id="items-dashboard"):
                    yield Static(id="items-dashboard-text")

    def on_mount(self) -> None:
        self.query_one("#items-filter").display = False
        self.query_one("#items-dashboard").display = False
        self.query_one(SectionsView).show(None, [])
        self._status()

    # -- data ------------------------------------------------------------------------------
    def _cell_row(self, item_id: str) -> tuple[Text, ...]:
        cached = self._cells.get(item_id)
        if cached is None:
            row = self.by_id.get(item_id, {})
            cached = self._cells[item_id] = tuple(cell(row.get(c.key)) for c in self.columns)
        return cached

    def set_rows(
        self,
        rows: list[dict[str, Any]],
        complete: bool = True,
        hays: list[str] | None = None,
    ) -> None:
        """Every row (or the first screenful, ``complete`` False), with their search texts
        when a worker built them (``haystacks``): the table is rebuilt and the cursor stays
        on its item."""
        self.rows = rows
        self.by_id = {r["id"]: r for r in rows}
        self._ids = [r["id"] for r in rows]
        self._hays = hays if hays is not None else haystacks(rows, self.columns)
        self._index = None
        self._base = None
        self._cells.clear()
        self.complete = complete
        self.query_one(ItemTable).clear_cache()
        self.refresh_table()

    def update_rows(self, rows: list[dict[str, Any]]) -> None:
        """Changed rows repainted in place: no re-filter or re-sort (so the cursor does not
        jump) unless a filter or sort may move them."""
        table = self.query_one(ItemTable)
        added = False
        for row in rows:
            item_id = row["id"]
            if self._index is None:
                self._index = {i: n for n, i in enumerate(self._ids)}
            where = self._index.get(item_id)
            if where is None:
                self._index[item_id] = len(self.rows)
                self.rows.append(row)
                self._ids.append(item_id)
                self._hays.append(haystack(row, self.columns))
                added = True
            else:
                self.rows[where] = row
                self._hays[where] = haystack(row, self.columns)
            self.by_id[item_id] = row
            self._cells.pop(item_id, None)
            table.refresh_key(item_id)
        if rows:
            self._base = None  # search texts or the order may have changed
        if added or (rows and self.reorders()):
            self.refresh_table()  # a new row, or a filter or sort may place them anew

    def reorders(self) -> bool:
        return self.quick != 0 or self.sort_column >= 0 or bool(self.filter_text)

    def _ordered(self) -> tuple[list[str], list[str]]:
        """Ids and search texts of the rows the quick filter keeps, in the sort's order
        (made once per rows, quick filter and sort; never changed in place: the table may
        show these very lists)."""
        key = (self.quick, self.sort_column, self.sort_reverse)
        if self._base is not None and self._base[0] == key:
            return self._base[1], self._base[2]
        ids, hays = self._ids, self._hays
        if self.quick:
            mask = [self.filters[self.quick].keep(r) for r in self.rows]
            ids, hays = list(compress(ids, mask)), list(compress(hays, mask))
        if self.sort_column >= 0:
            column, by_id = self.columns[self.sort_column].key, self.by_id
            order = sorted(
                range(len(ids)),
                key=lambda n: sort_key(by_id[ids[n]].get(column)),
                reverse=self.sort_reverse,
            )
            ids, hays = [ids[n] for n in order], [hays[n] for n in order]
        elif self.sort_reverse:
            ids, hays = ids[::-1], hays[::-1]
        else:
            ids, hays = list(ids), list(hays)
        self._base = (key, ids, hays)
        return ids, hays

    def refresh_table(self, narrow: bool = False) -> None:
        """Filter and sort the rows into the table; ``narrow``: the filter text was extended
        by typing, so only the rows shown can still match."""
        needle = self.filter_text.casefold()
        narrowing = (
            narrow
            and needle
            and self._shown_needle is not None
            and needle.startswith(self._shown_needle)
        )
        ids, hays = (self.shown, self._shown_hays) if narrowing else self._ordered()
        if needle:  # typing on narrows the rows shown; otherwise search the ordered rows
            mask = [needle in h for h in hays]
            ids, hays = list(compress(ids, mask)), list(compress(hays, mask))
        shown = self.shown = ids
        self._shown_hays = hays
        self._shown_needle = needle
        self.query_one(ItemTable).set_rows(shown, self._cell_row, keep=self.selected_id)
        self._status()
        if not shown:
            self._select(None)

    def sort_labels(self) -> list[str]:
        return [c.label for c in self.columns]

    def status_head(self) -> str:
        total = f"{len(self.rows):,}" + ("" if self.complete else "+ (loading)")
        return f"{len(self.shown):,} of {total} {self.noun}"

    def quick_label(self) -> str | None:
        return self.filters[self.quick].label if self.quick else None

    def show_detail(self, item_id: str | None, sections: list[Section]) -> None:
        if item_id == self.selected_id:
            self.query_one(SectionsView).show(item_id, sections)

    def show_dashboard(self, lines: list[tuple[str, str]]) -> None:
        text = Text()
        width = max((len(phase) for phase, _ in lines), default=0)
        for phase, counts in lines:
            text.append(f"{phase:<{width}}  ", style="bold")
            text.append(f"{counts}\n")
        text.rstrip()
        self.query_one("#items-dashboard-text", Static).update(
            text if lines else Text("nothing to show yet", style="dim")
        )

    # -- actions ---------------------------------------------------------------------------
    def action_quick_filter(self, index: int | None = None) -> None:
        count = len(self.filters)
        self.quick = index if index is not None and 0 <= index < count else (self.quick + 1) % count
        self.refresh_table()

    def action_item_action(self, action_id: str) -> None:
        action = self.actions.get(action_id)
        if action is not None and self.selected_id:
            self.post_message(self.RunAction(action, self.selected_id))

    def action_dashboard(self) -> None:
        self.dashboard_shown = not self.dashboard_shown
        self.query_one("#items-dashboard").display = self.dashboard_shown
        self.query_one(SectionsView).display = not self.dashboard_shown
        if self.dashboard_shown:
            self.post_message(self.DashboardRequest())
