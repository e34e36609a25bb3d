"""The main screen: four panes in tabs (1-4 / F2-F5), the footer, and the glue between them.
Panes post messages up; this screen does the catalog work in thread workers (each opening its
own connection) and hands results down. Stages run as Jobs whose events stream to Runs."""

from __future__ import annotations

import contextlib
import gc
import threading
from collections.abc import Callable
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Header, Static, TabbedContent, TabPane
from textual.worker import Worker

from graftwork.core.base.errors import GraftworkError
from graftwork.core.prompts.current import current_of_sql
from graftwork.tui import layout
from graftwork.tui.data import (
    WidgetRow,
    catalog_marks,
    changed_items,
    first_item_ids,
    load_detail,
    load_job,
    load_job_logs,
    load_jobs,
    load_revisions,
    load_rows,
)
from graftwork.tui.messages import CatalogChanged, ItemSelected, JobUpdate, PromptCounted
from graftwork.tui.screens import modals
from graftwork.tui.widgets.budget_pane import BudgetPane
from graftwork.tui.widgets.detail import DetailView
from graftwork.tui.widgets.items_pane import ItemsPane, haystacks
from graftwork.tui.widgets.prompt_pane import PromptPane
from graftwork.tui.widgets.runs_pane import RunsPane
from graftwork.tui.widgets.widgets_pane import WidgetsPane
from graftwork.tui.worker_errors import report_worker_error, user_message

PANES = ("widgets", "prompt", "budget", "runs")
MIN_SIZE = (80, 24)
SELECT_SETTLE_SECONDS = 0.08
# While a filter is typed into the items pane, the detail (markdown sections, mounted anew)
# waits until typing rests, so its work never lands between two keystrokes.
TYPING_SETTLE_SECONDS = 0.3
JOB_POLL_SECONDS = 2.0  # jobs started elsewhere (a CLI in another terminal) show up this often
CANCEL_POLL_SECONDS = 0.2  # while a training of another process is being cancelled
LIVE_POLL_SECONDS = 0.2  # the catalog change probe: any writer's change is on screen within ~0.5 s
FIRST_PAGE = 200  # items read before the whole list, so a large catalog paints at once


class MainScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "1", "pane('widgets')", "Widgets", id="pane.widgets", tooltip="Show the Widgets pane"
        ),
        Binding("2", "pane('prompt')", "Prompt", id="pane.prompt", tooltip="Show the Prompt pane"),
        Binding("3", "pane('budget')", "Budget", id="pane.budget", tooltip="Show the Budget pane"),
        Binding("4", "pane('runs')", "Runs", id="pane.runs", tooltip="Show the Runs pane"),
        # F-keys work even inside the editor (priority), digits only outside text fields.
        Binding("f2", "pane('widgets')", "Widgets", show=False, priority=True, id="pane.widgets_f"),
        Binding("f3", "pane('prompt')", "Prompt", show=False, priority=True, id="pane.prompt_f"),
        Binding("f4", "pane('budget')", "Budget", show=False, priority=True, id="pane.budget_f"),
        Binding("f5", "pane('runs')", "Runs", show=False, priority=True, id="pane.runs_f"),
        Binding(
            "z",
            "maximize_region",
            "Maximize",
            id="layout.maximize",
            tooltip="Maximize the focused region; again (or escape) restores",
        ),
        Binding(
            "f11",
            "maximize_region",
            "Maximize",
            show=False,
            priority=True,
            id="layout.maximize_f",
            tooltip="Maximize or restore, also inside the editor",
        ),
        Binding(
            "less_than_sign",
            "divider(-1)",
            "Divider left",
            show=False,
            id="layout.divider_left",
            tooltip="Move the divider left: the side column (detail, revisions, log) widens",
        ),
        Binding(
            "greater_than_sign",
            "divider(1)",
            "Divider right",
            show=False,
            id="layout.divider_right",
            tooltip="Move the divider right: the side column narrows",
        ),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.rows: dict[str, WidgetRow] = {}
        self.limit = 4095
        self.cancels: dict[str, threading.Event] = {}
        self.outside_cancels: set[str] = set()  # train jobs of other processes asked to stop
        self._cancel_poll: Timer | None = None
        self.selected_id: str | None = None
        self.last_set = ""
        self._select_timer: Timer | None = None
        self._counted_once = False
        self.loaded = threading.Event()  # set after the first rows are on screen (benchmarks)
        self._live_stop = threading.Event()
        self._live_counts: dict[str, tuple[int | None, int, dict[str, int]]] = {}
        self._live_thread: threading.Thread | None = None
        # The recipe's items view (None: the Übersicht widgets pane), resolved by the app.
        self.view: Any = self.app.item_view
        self._view_marks: Any = None
        if self.view is not None:  # the first pane's key says what it lists
            from dataclasses import replace

            keys = self._bindings.key_to_bindings
            keys["1"] = [replace(b, description="Items") for b in keys.get("1", [])]
        self.dividers = {pane: layout.Divider() for pane in layout.SIDES}

    def compose(self) -> ComposeResult:
        yield Header(icon="⎇")
        with TabbedContent(initial="widgets", id="panes"):
            if self.view is None:
                with TabPane("1 Widgets", id="widgets"):
                    yield WidgetsPane(id="widgets-pane")
            else:
                with TabPane("1 Items", id="widgets"):
                    yield ItemsPane(self.view, self.app.item_columns, id="items-pane")
            with TabPane("2 Prompt", id="prompt"):
                yield PromptPane(id="prompt-pane")
            with TabPane("3 Budget", id="budget"):
                yield BudgetPane(id="budget-pane")
            with TabPane("4 Runs", id="runs"):
                yield RunsPane(id="runs-pane")
        with Middle(id="too-small"), Center():
            yield Static(id="too-small-text")
        yield Footer()

    @property
    def widgets_pane(self) -> WidgetsPane:
        return self.query_one(WidgetsPane)

    @property
    def items_pane(self) -> ItemsPane:
        return self.query_one(ItemsPane)

    @property
    def first_pane(self) -> WidgetsPane | ItemsPane:
        """Pane 1: the widgets pane (uebersicht) or the recipe's items pane."""
        return self.widgets_pane if self.view is None else self.items_pane

    @property
    def first_table(self) -> str:
        return "#widgets-table" if self.view is None else "#items-table"

    @property
    def prompt_pane(self) -> PromptPane:
        return self.query_one(PromptPane)

    @property
    def budget_pane(self) -> BudgetPane:
        return self.query_one(BudgetPane)

    @property
    def runs_pane(self) -> RunsPane:
        return self.query_one(RunsPane)

    def on_mount(self) -> None:
        self.title = "graftwork"
        self.sub_title = self.app.ws.root.name  # the folder name: stable in pictures
        self._check_size()
        self._apply_layout()
        self.reload()
        self.query_one(self.first_table).focus()
        self.set_interval(JOB_POLL_SECONDS, self._poll_jobs)
        self.watch_catalog()

    def on_unmount(self) -> None:
        self._live_stop.set()
        # Frozen objects make CPython's final shutdown crawl for many seconds: thaw them.
        gc.unfreeze()

    # -- layout ----------------------------------------------------------------------------
    def on_resize(self) -> None:
        self._check_size()
        self._apply_layout()

    def _apply_layout(self) -> None:
        """Size each pane's side column for the terminal's width (layout.py's rules)."""
        width = self.app.size.width
        for pane, selectors in layout.SIDES.items():
            for node in self.query(",".join(selectors)):
                side = layout.side_width(f"#{node.id}", width, self.dividers[pane])
                node.styles.width = side

    def action_divider(self, direction: int) -> None:
        pane = self.query_one(TabbedContent).active
        sides = list(self.query(",".join(layout.SIDES.get(pane, ("#-none",)))))
        if not sides:
            self.notify("This pane has no divider", severity="warning", timeout=2)
            return
        width, divider = self.app.size.width, self.dividers[pane]
        layout.move_divider(f"#{sides[0].id}", width, divider, direction * layout.STEP)
        self._apply_layout()

    def action_maximize_region(self) -> None:
        """Maximize the region holding the focus (the table with its filter, the detail, the
        editor, ...); pressed again, or escape, restores the panes."""
        if self.maximized is not None:
            self.minimize()
            return
        focused = self.focused
        if focused is None:
            return
        regions = {selector.lstrip("#") for selector in layout.REGIONS}
        region = next((node for node in focused.ancestors_with_self if node.id in regions), focused)
        self.maximized = region  # type: ignore[assignment]

    def watch_maximized(self, maximized: Any) -> None:
        """A maximized side column drops the width its pane gave it (main.tcss makes it fill
        the screen); restoring (z, escape, another pane) gives the widths back."""
        if maximized is not None:
            maximized.styles.width = None
        else:
            self._apply_layout()

    def _check_size(self) -> None:
        w, h = self.app.size
        small = w < MIN_SIZE[0] or h < MIN_SIZE[1]
        self.set_class(small, "-too-small")
        if small:
            self.query_one("#too-small-text", Static).update(
                Text(
                    f"The terminal is {w}×{h}; graftwork needs at least {MIN_SIZE[0]}×{MIN_SIZE[1]}.\n"
                    "Enlarge the window (nothing is lost meanwhile).",
                    justify="center",
                )
            )

    def action_pane(self, pane: str) -> None:
        if self.maximized is not None:
            self.minimize()  # another pane: the maximized region would hide it
        self.query_one(TabbedContent).active = pane
        target = {
            "widgets": self.first_table,
            "prompt": "#prompt-editor",
            "budget": "#budget-histogram",
            "runs": "#runs-table",
        }[pane]
        self.query_one(target).focus()

    @on(TabbedContent.TabActivated)
    def _tab_shown(self, event: TabbedContent.TabActivated) -> None:
        if event.pane.id == "budget":  # by key or by mouse
            self.budget_pane.catch_up()

    # -- loading ---------------------------------------------------------------------------
    @work(
        thread=True, exclusive=True, group="rows", exit_on_error=False, name="loading the widgets"
    )
    def reload(self) -> None:
        from graftwork.core.base.project import load_project

        with self.app.ws.catalog() as db:
            if self.view is not None:
                self._load_items(db)
            rows, jobs = load_rows(db), load_jobs(db)
        try:
            limit = load_project(self.app.ws).max_sequence_length
        except GraftworkError as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error", markup=False)
            limit = self.limit
        self.app.call_from_thread(self._loaded, rows, jobs, limit)

    def _load_items(self, db: Any) -> None:
        """The items pane's rows (worker thread): the first screenful at once when the pane is
        empty, then every row. A view that fails is one notification, not a crash."""
        try:
            if not self.items_pane.rows:
                page = first_item_ids(db, self.app.item_source, FIRST_PAGE)
                if len(page) == FIRST_PAGE:  # more to come: show these while the rest loads
                    self.app.call_from_thread(self._items_loaded, self.view.rows(db, page), False)
            rows = self.view.rows(db)
        except Exception as exc:
            self.app.call_from_thread(
                self.notify, f"items: {exc}", severity="error", markup=False, timeout=10
            )
            rows = []
        hays = haystacks(rows, self.app.item_columns)
        self.app.call_from_thread(self._items_loaded, rows, True, hays)

    def _items_loaded(
        self, rows: list[dict[str, Any]], complete: bool, hays: list[str] | None = None
    ) -> None:
        self.items_pane.set_rows(rows, complete, hays)
        if complete:
            gc.freeze()  # 100,000 long-lived rows: keep them out of the collector's full passes

    def _loaded(self, rows: list[WidgetRow], jobs: list[Any], limit: int) -> None:
        self.limit = limit
        self._apply_live_counts(rows)
        self.rows = {r.id: r for r in rows}
        if self.view is None:
            self.widgets_pane.set_rows(rows)
        self.budget_pane.set_rows(rows, limit)
        self.runs_pane.set_jobs(jobs)
        if self.selected_id in self.rows:
            self.budget_pane.select(self.rows[self.selected_id])
        # Thousands of rows are long-lived: keep them out of the cyclic collector's full
        # passes, which otherwise stall a keystroke's repaint by ~100 ms now and then.
        gc.freeze()
        self.loaded.set()

    # -- live catalog ----------------------------------------------------------------------
    def watch_catalog(self) -> None:
        """Start the catalog watch: a plain daemon thread, not a Textual worker, because it
        runs for the screen's whole life (tests and quit wait for workers to finish)."""
        self._live_stop.clear()
        self._live_thread = threading.Thread(
            target=self._watch, name="graftwork catalog watch", daemon=True
        )
        self._live_thread.start()

    def _watch(self) -> None:
        """Poll the catalog's change probe (it reads no table) and, after any commit by any
        process, reload rows, jobs and the selected item off the UI thread; the UI thread only
        merges what differs, so the cursor, selection, filter and an edit in progress stay."""
        from graftwork.core.base.catalog.changes import ChangeProbe

        try:
            probe = ChangeProbe(self.app.ws.db_path)
        except Exception:  # no catalog yet: the startup check reports it
            return
        with probe:
            marks = self._read_marks()
            while not self._live_stop.wait(LIVE_POLL_SECONDS):
                if not self.loaded.is_set() or not probe.changed():
                    continue
                try:
                    marks = self._live_reload(marks)
                except Exception as exc:  # a locked catalog or a bad row: say so, keep watching
                    if self._live_stop.is_set():
                        return
                    try:
                        self.app.call_from_thread(
                            self.notify,
                            user_message(exc, "live refresh"),
                            severity="warning",
                            markup=False,
                        )
                    except RuntimeError:
                        return

    def _read_marks(self) -> dict[str, Any]:
        with self.app.ws.catalog() as db:
            if self.view is not None and hasattr(self.view, "changed"):
                self._view_marks = self.view.changed(db, None)[1]
            return catalog_marks(db)

    def _live_reload(self, marks: dict[str, Any]) -> dict[str, Any]:
        """Read only what changed: the rows of changed items (all rows when items came or
        went), the jobs, and the selected item's detail if it is among them."""
        selected = self.selected_id
        if self.view is not None:
            return self._live_reload_items(marks, selected)
        with self.app.ws.catalog() as db:
            ids, marks = changed_items(db, marks)
            rows = load_rows(db) if ids is None else load_rows(db, ids=ids) if ids else []
            jobs = load_jobs(db)
            mine = selected is not None and (ids is None or selected in ids)
            detail = load_detail(self.app.ws, db, selected) if mine and selected else None
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.app.call_from_thread(self._live_merge, rows, ids is None, jobs, selected, detail)
        return marks

    def _live_reload_items(self, marks: dict[str, Any], selected: str | None) -> dict[str, Any]:
        """The items pane's share of a live refresh: the view's rows of the changed items
        (the core tables' changes, plus the view's own when it says what changed), the
        budget rows, the selected item's sections and revisions, the dashboard if shown."""
        view = self.view
        with self.app.ws.catalog() as db:
            ids, marks = changed_items(db, marks)
            if hasattr(view, "changed"):
                own, self._view_marks = view.changed(db, self._view_marks)
                ids = None if ids is None or own is None else sorted({*ids, *own})
            rows = load_rows(db) if ids is None else load_rows(db, ids=ids) if ids else []
            items = view.rows(db) if ids is None else view.rows(db, ids) if ids else []
            jobs = load_jobs(db)
            mine = selected is not None and (ids is None or selected in ids)
            detail = None
            if mine and selected:
                detail = (view.detail(db, selected), load_revisions(db, selected))
            board = view.dashboard(db) if self.items_pane.dashboard_shown and ids != [] else None
        hays = haystacks(items, self.app.item_columns) if ids is None else None
        with contextlib.suppress(RuntimeError):  # the app is shutting down
            self.app.call_from_thread(
                self._live_merge_items, items, hays, rows, jobs, selected, detail, board
            )
        return marks

    def _live_merge_items(
        self,
        items: list[dict[str, Any]],
        hays: list[str] | None,
        rows: list[WidgetRow],
        jobs: list[Any],
        selected: str | None,
        detail: tuple[list[Any], list[Any]] | None,
        board: list[tuple[str, str]] | None,
    ) -> None:
        pane = self.items_pane
        whole = hays is not None  # every row was read (items came or went)
        if whole:
            pane.set_rows(items, True, hays)
            self.rows = {r.id: r for r in rows}
        else:
            pane.update_rows([r for r in items if r != pane.by_id.get(r["id"])])
            self.rows.update({r.id: r for r in rows})
        if rows or whole:
            self.budget_pane.set_rows(list(self.rows.values()))
            if self.selected_id in self.rows:
                self.budget_pane.select(self.rows[self.selected_id])
        self.runs_pane.merge_jobs([j for j in jobs if j.id not in self.cancels])
        if board is not None:
            pane.show_dashboard(board)
        if detail is not None and selected is not None and selected == self.selected_id:
            pane.show_detail(selected, detail[0])
            self.prompt_pane.external_revisions(selected, detail[1])

    def _live_merge(
        self,
        rows: list[WidgetRow],
        whole: bool,
        jobs: list[Any],
        selected: str | None,
        detail: Any,
    ) -> None:
        self._apply_live_counts(rows)
        if whole:  # items added or removed: the table is rebuilt (the cursor stays on its id)
            self.rows = {r.id: r for r in rows}
            self.widgets_pane.set_rows(rows)
            changed = rows
        else:
            changed = [r for r in rows if r != self.rows.get(r.id)]
            for row in changed:
                self.rows[row.id] = row
                self.widgets_pane.update_row(row)
            if changed and self.widgets_pane.reorders():
                self.widgets_pane.refresh_table()  # a filter or sort may place them anew
        if changed:
            self.budget_pane.set_rows(list(self.rows.values()))
            if self.selected_id in self.rows:
                self.budget_pane.select(self.rows[self.selected_id])
        self.runs_pane.merge_jobs([j for j in jobs if j.id not in self.cancels])
        if selected is None or selected != self.selected_id or detail is None:
            return
        if detail != self.query_one(DetailView).detail:
            self._show_detail(selected, detail)
        self.prompt_pane.external_revisions(selected, detail.revisions)

    @work(thread=True, exclusive=True, group="row", exit_on_error=False, name="loading a widget")
    def reload_item(self, item_id: str) -> None:
        if self.view is not None:
            with self.app.ws.catalog() as db:
                items = self.view.rows(db, [item_id])
                rows = load_rows(db, item_id)
                sections = self.view.detail(db, item_id) if item_id == self.selected_id else None
            self.app.call_from_thread(self._item_changed, item_id, items, rows, sections)
            return
        with self.app.ws.catalog() as db:
            rows = load_rows(db, item_id)
            # the selected item's detail shows its decision and note too
            detail = load_detail(self.app.ws, db, item_id) if item_id == self.selected_id else None
        if rows:
            self.app.call_from_thread(self._row_changed, rows[0])
        if detail is not None:
            self.app.call_from_thread(self._show_detail, item_id, detail)

    def _item_changed(
        self,
        item_id: str,
        items: list[dict[str, Any]],
        rows: list[WidgetRow],
        sections: list[Any] | None,
    ) -> None:
        self.items_pane.update_rows(items)
        for row in rows:
            self.rows[row.id] = row
        if rows:
            self.budget_pane.set_rows(list(self.rows.values()))
        if sections is not None:
            self.items_pane.show_detail(item_id, sections)

    def _row_changed(self, row: WidgetRow) -> None:
        self.rows[row.id] = row
        self.widgets_pane.update_row(row)
        self.budget_pane.set_rows(list(self.rows.values()))
        if row.id == self.selected_id:
            self.budget_pane.select(row)

    @on(ItemSelected)
    def _selected(self, event: ItemSelected) -> None:
        self.selected_id = event.item_id
        self.budget_pane.select(self.rows.get(event.item_id) if event.item_id else None)
        # Holding an arrow key or typing a filter moves the cursor many times a second: load
        # (and highlight) the detail only once the selection rests.
        if self._select_timer is not None:
            self._select_timer.stop()
        self._select_timer = self.set_timer(
            self._settle_seconds(), lambda: self.load_item(self.selected_id)
        )

    def _settle_seconds(self) -> float:
        focused = self.focused
        typing = self.view is not None and focused is not None and focused.id == "items-filter"
        return TYPING_SETTLE_SECONDS if typing else SELECT_SETTLE_SECONDS

    @work(
        thread=True, exclusive=True, group="detail", exit_on_error=False, name="loading the widget"
    )
    def load_item(self, item_id: str | None) -> None:
        if self.view is not None:
            self._load_recipe_item(item_id)
            return
        detail, example, problem = None, None, ""
        if item_id is not None:
            with self.app.ws.catalog() as db:
                detail = load_detail(self.app.ws, db, item_id)
                try:
                    example = self.app.services.example_for(
                        db, item_id, detail.prompt if detail else ""
                    )
                except GraftworkError as exc:
                    problem = f"cannot count: {exc}"
        self.app.call_from_thread(self._show_item, item_id, detail, example, problem)

    def _load_recipe_item(self, item_id: str | None) -> None:
        """The items pane's detail (the view's sections) and the Prompt pane's example: its
        user turn is the current prompt, its assistant turn shown beside the editor."""
        sections: list[Any] = []
        name, revisions, example, problem = "", [], None, ""
        if item_id is not None:
            with self.app.ws.catalog() as db:
                try:
                    sections = self.view.detail(db, item_id)
                except Exception as exc:  # a view's bug: shown in the detail, not a crash
                    from graftwork.core.recipes.views import Section

                    sections = [Section(item_id, f"cannot show this item: {exc}")]
                row = db.execute("SELECT name FROM items WHERE id = ?", [item_id]).fetchone()
                name = (row[0] if row else "") or ""
                revisions = load_revisions(db, item_id)
                prompt = revisions[-1].text if revisions else ""
                try:
                    example = self.app.services.example_for(db, item_id, prompt)
                except (GraftworkError, ValueError) as exc:
                    problem = f"cannot count: {exc}"
        self.app.call_from_thread(
            self._show_recipe_item, item_id, sections, name, revisions, example, problem
        )

    def _show_recipe_item(
        self,
        item_id: str | None,
        sections: list[Any],
        name: str,
        revisions: list[Any],
        example: Any,
        problem: str,
    ) -> None:
        if item_id != self.selected_id:
            return
        self.items_pane.show_detail(item_id, sections)
        self.prompt_pane.load(item_id, name, revisions, example, self.limit, problem)

    @on(ItemsPane.RunAction)
    def _run_action(self, event: ItemsPane.RunAction) -> None:
        self.run_item_action(event.action, event.item_id)

    @work(thread=True, group="item-action", exit_on_error=False, name="item action")
    def run_item_action(self, action: Any, item_id: str) -> None:
        """A view's action (recipes/views.ItemAction) on one item, off the UI thread."""
        try:
            message = action.run(self.app.ws, item_id)
        except GraftworkError as exc:
            self.app.call_from_thread(
                self.notify, f"{action.label}: {exc}", severity="error", markup=False
            )
            return
        self.post_message(CatalogChanged(item_id))
        self.app.call_from_thread(self.notify, str(message), markup=False, timeout=3)

    @on(ItemsPane.DashboardRequest)
    def _dashboard_request(self) -> None:
        self.load_dashboard()

    @work(thread=True, exclusive=True, group="dashboard", exit_on_error=False, name="dashboard")
    def load_dashboard(self) -> None:
        with self.app.ws.catalog() as db:
            lines = self.view.dashboard(db)
        self.app.call_from_thread(self.items_pane.show_dashboard, lines)

    def _show_detail(self, item_id: str | None, detail: Any) -> None:
        if item_id == self.selected_id:
            self.widgets_pane.query_one("#widgets-detail").show(detail, self.app.graphics)

    def _show_item(self, item_id: str | None, detail: Any, example: Any, problem: str) -> None:
        if item_id != self.selected_id:
            return
        self._show_detail(item_id, detail)
        name = detail.name if detail else ""
        revisions = detail.revisions if detail else []
        self.prompt_pane.load(item_id, name, revisions, example, self.limit, problem)

    # -- changes from panes ---------------------------------------------------------------
    @on(PromptCounted)
    def _counted(self, event: PromptCounted) -> None:
        if not self._counted_once:  # the tokenizer's tables were just loaded: freeze them too
            self._counted_once = True
            gc.freeze()
        row = self.rows.get(event.item_id)
        if row is None:
            return
        stored = self._live_counts.get(event.item_id, (row.tokens, 0, {}))[0]
        self._live_counts[event.item_id] = (stored, event.total, dict(event.parts))
        self._overlay(row)
        if self.view is None:
            self.widgets_pane.update_row(row)
        self.budget_pane.set_rows(list(self.rows.values()))
        if event.item_id == self.selected_id:
            self.budget_pane.select(row)

    def _apply_live_counts(self, rows: list[WidgetRow]) -> None:
        for row in rows:
            if row.id in self._live_counts:
                if row.tokens == self._live_counts[row.id][0]:
                    self._overlay(row)
                else:  # budget counted anew: the catalog is right again
                    del self._live_counts[row.id]

    def _overlay(self, row: WidgetRow) -> None:
        """Show the live count of an edited prompt until budget stores a new count."""
        _stored, total, parts = self._live_counts[row.id]
        row.tokens, row.parts = total, dict(parts)
        row.over_by = max(0, total - self.limit)
        if row.action != "—":
            row.action = "exclude" if row.over_by else "keep"

    @on(PromptPane.Saved)
    def _prompt_saved(self, event: PromptPane.Saved) -> None:
        self._refresh_prompt_state(event.item_id)

    @work(thread=True, group="row-state", exit_on_error=False, name="loading the prompt state")
    def _refresh_prompt_state(self, item_id: str) -> None:
        with self.app.ws.catalog() as db:
            row = db.execute(current_of_sql("state"), [item_id]).fetchone()
        state = row[0] if row else None
        self.app.call_from_thread(self._set_prompt_state, item_id, state or "—")

    def _set_prompt_state(self, item_id: str, state: str) -> None:
        row = self.rows.get(item_id)
        if row is not None:
            row.prompt = state
            if self.view is None:
                self.widgets_pane.update_row(row)
        if self.view is not None:  # the view's row shows the prompt (its preview, its state)
            self.reload_item(item_id)

    @on(CatalogChanged)
    def _catalog_changed(self, event: CatalogChanged) -> None:
        if event.item_id:
            self.reload_item(event.item_id)
        else:
            self.reload()

    @on(WidgetsPane.Decide)
    def _decide(self, event: WidgetsPane.Decide) -> None:
        row = self.rows.get(event.item_id)
        if not event.ask_note:
            self.set_decision(event.item_id, event.decision or "needs_work", None)
            return
        current = row.decision if row and row.decision != "—" else "needs_work"
        label = row.name if row and row.name else event.item_id

        def done(values: dict[str, Any] | None) -> None:
            if values is not None:
                self.set_decision(event.item_id, current, values["note"])  # "" clears the note

        shown = self.query_one(DetailView).detail
        note = shown.note if shown is not None and shown.id == event.item_id else None
        self.app.push_screen(modals.note_form(label, note or ""), done)

    @work(thread=True, group="curation", exit_on_error=False, name="curation")
    def set_decision(self, item_id: str, decision: str, note: str | None) -> None:
        with self.app.ws.catalog() as db:
            if decision == "clear":
                from graftwork.core.curate.curation import clear_decision

                clear_decision(db, item_id, "cleared in the workstation")
            else:
                self.app.services.set_decision(db, item_id, decision, note)
        self.post_message(CatalogChanged(item_id))
        self.app.call_from_thread(
            self.notify, f"{item_id}: {decision.replace('_', ' ')}", markup=False, timeout=2
        )

    # -- stages ----------------------------------------------------------------------------
    def action_start(self, stage: str) -> None:
        """Run a declared pipeline stage (core/stage_list.py); stages that need input ask first."""
        if stage == "ingest":

            def go(v: dict[str, Any] | None) -> None:
                if v:
                    widgets = [w.strip() for w in v["widgets"].split(",") if w.strip()] or None
                    self.start_stage(
                        "ingest",
                        {
                            "manifest": v["manifest"],
                            "widgets": widgets,
                            "refresh": bool(v["refresh"]),
                        },
                    )

            self.app.push_screen(modals.ingest_form(), go)
        elif stage == "build":

            def go_build(v: dict[str, Any] | None) -> None:
                if v:
                    self.last_set = v["set_name"]
                    self.start_stage(
                        "build", {"set_name": v["set_name"], "force": bool(v["force"])}
                    )

            self.app.push_screen(modals.build_form(self._default_set_name()), go_build)
        elif stage == "export":

            def go_export(v: dict[str, Any] | None) -> None:
                if v:
                    self.start_stage(
                        "export",
                        {
                            "set_name": v["set_name"],
                            "fmt": v["fmt"],
                            "out_dir": v["out_dir"] or None,
                        },
                    )

            self.app.push_screen(modals.export_form(self.last_set), go_export)
        elif stage == "budget":
            self.start_stage("budget", {"max_tokens": self.budget_pane.limit})
        else:
            self.start_stage(stage, {})

    def _default_set_name(self) -> str:
        """The set built last in this window, else the first free v1, v2, ..."""
        if self.last_set:
            return self.last_set
        taken = (
            {p.name for p in self.app.ws.datasets_dir.glob("*")}
            if self.app.ws.datasets_dir.is_dir()
            else set()
        )
        return next(f"v{n}" for n in range(1, 10_000) if f"v{n}" not in taken)

    def action_train(self) -> None:
        """Train a LoRA adapter on a built set (asks for the set's name)."""

        def go(v: dict[str, Any] | None) -> None:
            if not v:
                return
            try:
                params = modals.train_params(v)
            except ValueError as exc:
                self.notify(str(exc), severity="error", markup=False)
                return
            self.start_stage("train", params)

        self.app.push_screen(modals.train_form(self.last_set), go)

    def action_teach(self) -> None:
        """Teacher drafts for every widget without a prompt: estimate, confirm, run."""
        self._teacher_stage(
            "teach",
            self.app.services.teach_estimate,
            "Ask the teacher for drafts?",
            modals.teach_estimate_text,
        )

    def action_teach_categories(self) -> None:
        """`teach categories` (uebersicht): estimate, confirm with the spend, run the stage."""
        if self.view is not None:  # another recipe's items: categories are for widgets
            self.notify(
                "teacher categories are for Übersicht widgets (recipe uebersicht)",
                severity="warning",
                markup=False,
            )
            return
        self._teacher_stage(
            "teach.categories",
            self.app.services.teach_categories_estimate,
            "Ask the teacher for categories?",
            modals.categories_estimate_text,
        )

    def _teacher_stage(
        self,
        stage: str,
        estimate: Any,
        title: str,
        describe: Any,
    ) -> None:
        """A teacher stage as the CLI runs it: the estimate (calls, tokens, cost) first, a
        confirmation, then the declared stage through the registry."""
        if estimate is None:
            self.notify("no teacher is configured", severity="warning", markup=False)
            return
        self.notify("estimating the teacher run…", timeout=2)
        self._estimate_teacher(stage, estimate, title, describe)

    @work(thread=True, group="teach-estimate", exit_on_error=False, name="teacher estimate")
    def _estimate_teacher(self, stage: str, estimate: Any, title: str, describe: Any) -> None:
        est = estimate()
        self.app.call_from_thread(self._confirm_teacher, stage, est, title, describe)

    def _confirm_teacher(self, stage: str, est: dict[str, Any], title: str, describe: Any) -> None:
        if est.get("items") == 0:
            self.notify(
                "nothing for the teacher: every widget it would ask about is done",
                markup=False,
                timeout=4,
            )
            return

        def go(yes: bool | None) -> None:
            if yes:
                self.start_stage(stage, {})

        self.app.push_screen(modals.ConfirmModal(title, describe(est)), go)

    def action_review(self) -> None:
        """Open the training area's Review screen for the selected train/sample/eval job."""
        job = self.runs_pane.jobs.get(self.runs_pane.selected_id or "")
        if job is None or job.kind not in ("train", "sample", "eval", "eval.judge"):
            self.notify("Select a train, sample or eval job in Runs first", severity="warning")
            return
        # sample and eval jobs name their run (as run_id; "run" in catalogs from before the registry)
        run = job.params.get("run_id") or job.params.get("run")
        self._push_review(str(run or job.id))

    def _push_review(self, run_or_job: str) -> None:
        """The screen resolves a train job's id to its run itself (in its loading worker)."""
        from graftwork.tui.training.review_screen import ReviewScreen

        def jump(item_id: str | None) -> None:  # "training examples of the same widget"
            if item_id:
                self.action_pane("widgets")
                self.first_pane.show_item(item_id)

        def sample(run_id: str) -> Any:  # from the screen's worker thread
            return self.app.services.run_stage("sample", {"run_id": run_id})

        def evaluate(run_id: str) -> Any:  # from the screen's worker thread
            return self.app.services.run_stage("eval", {"run_id": run_id})

        self.app.push_screen(
            ReviewScreen(self.app.ws, run_or_job, sample=sample, evaluate=evaluate), jump
        )

    def action_history(self) -> None:
        """The history of training runs (RunHistory reads the catalog in its own workers)."""
        from graftwork.tui.training.history_screen import RunHistoryScreen

        self.app.push_screen(RunHistoryScreen(self.app.ws), self._history_chosen)

    def _history_chosen(self, chosen: tuple[str, str | None] | None) -> None:
        if chosen is None:
            return
        run_id, job_id = chosen
        self.action_pane("runs")
        if job_id is None or not self.runs_pane.select_job(job_id):
            self.notify(f"run {run_id} has no job in Runs", severity="warning", markup=False)

    def action_ship(self) -> None:
        """Ship the selected job's run: a form, a confirmation before replacing, the job."""
        from graftwork.tui.training.ship_action import ship_selected

        ship_selected(self)

    def start_stage(
        self, name: str, params: dict[str, Any], then: Callable[[Any], None] | None = None
    ) -> Worker[Any]:
        """Run the declared stage ``name`` as a Job in a thread worker; events go to Runs.
        ``then(result)`` runs on the UI thread when the stage succeeded."""
        from graftwork.core.stages import get_stage

        label = get_stage(name).label
        cancel = threading.Event()

        def listener(event: Any) -> None:
            if event.type == "started":
                self.cancels[event.job_id] = cancel
            self.post_message(JobUpdate(event))  # thread-safe

        def work() -> Any:
            result = self.app.services.run_stage(name, params, [listener], cancel)
            if then is not None:
                self.app.call_from_thread(then, result)
            return result

        self.notify(f"{label} started", timeout=2, markup=False)
        return self.run_worker(
            work,
            name=label,
            group="jobs",
            thread=True,
            exit_on_error=False,
            description=f"stage {name}",
        )

    @on(JobUpdate)
    def _job_update(self, message: JobUpdate) -> None:
        event = message.event
        self.runs_pane.on_job_event(event)
        if event.type == "finished":
            self.cancels.pop(event.job_id, None)
            severity = {"done": "information", "partial": "warning"}.get(event.state, "error")
            text = f"{event.job_kind} {event.state}: {event.done} done, {event.failed} failed"
            if event.message:
                text += f" ({event.message})"
            self.notify(text, severity=severity, markup=False)  # type: ignore[arg-type]
            self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_error(self, event)

    @on(RunsPane.CancelRequest)
    def _cancel(self, event: RunsPane.CancelRequest) -> None:
        cancel = self.cancels.get(event.job_id)
        job = self.runs_pane.jobs.get(event.job_id)
        # A training started elsewhere (the CLI, another window) stops through its run's
        # cancel file, which the process that follows it watches (core/train/cancel.py).
        outside_train = (
            cancel is None and job is not None and job.kind == "train" and job.state == "running"
        )
        if cancel is None and not outside_train:
            self.notify("That job is not running in this window", severity="warning")
            return

        def go(yes: bool | None) -> None:
            if not yes:
                return
            if cancel is not None:
                if not cancel.is_set():
                    cancel.set()
                    self.runs_pane.mark_cancelling(event.job_id)
                    self.notify(f"cancelling {event.job_id}…", markup=False)
            else:
                self._cancel_outside(event.job_id)

        what = f"{job.kind} {job.id}" if job else event.job_id
        body = (
            "Training stops within 2 s and keeps its last checkpoint; "
            "`graftwork train --resume RUN` continues it."
            if job is not None and job.kind == "train"
            else "Work done so far is kept."
        )
        self.app.push_screen(modals.ConfirmModal(f"Cancel {what}?", Text(body)), go)

    @work(thread=True, group="cancel", exit_on_error=False, name="cancel")
    def _cancel_outside(self, job_id: str) -> None:
        from graftwork.core.train.cancel import request_cancel, run_of_job

        with self.app.ws.catalog() as db:
            run_id = run_of_job(db, job_id)
            if run_id is None:
                raise GraftworkError(f"job {job_id} has no training run to cancel yet")
            request_cancel(self.app.ws, db, run_id)
        self.app.call_from_thread(self._outside_cancelling, job_id)

    def _outside_cancelling(self, job_id: str) -> None:
        self.outside_cancels.add(job_id)
        self.runs_pane.mark_cancelling(job_id)
        self.notify(f"cancelling {job_id}…", markup=False)
        if self._cancel_poll is None:  # follow it closely: the row says cancelled within 2 s
            self._cancel_poll = self.set_interval(CANCEL_POLL_SECONDS, self.poll_jobs)

    def _poll_jobs(self) -> None:
        if self.query_one(TabbedContent).active == "runs" and not self.is_too_small():
            self.poll_jobs()

    def is_too_small(self) -> bool:
        return self.has_class("-too-small")

    @work(
        thread=True, exclusive=True, group="jobs-poll", exit_on_error=False, name="loading the jobs"
    )
    def poll_jobs(self) -> None:
        """Pick up jobs from other processes; their logs stream from the catalog."""
        selected = self.runs_pane.selected_id
        with self.app.ws.catalog() as db:
            jobs = load_jobs(db)
            outside = next(
                (
                    j
                    for j in jobs
                    if j.id == selected and j.state == "running" and j.id not in self.cancels
                ),
                None,
            )
            lines = load_job_logs(db, outside.id) if outside else None
        self.app.call_from_thread(self._polled, jobs, selected, lines)

    def _polled(
        self, jobs: list[Any], selected: str | None, lines: list[dict[str, Any]] | None
    ) -> None:
        for j in jobs:  # asked to stop from here: "cancelling" until its process says it ended
            if j.id in self.outside_cancels:
                if j.state == "running":
                    j.state = "cancelling"
                else:
                    self.outside_cancels.discard(j.id)
        if not self.outside_cancels and self._cancel_poll is not None:
            self._cancel_poll.stop()
            self._cancel_poll = None
        self.runs_pane.merge_jobs([j for j in jobs if j.id not in self.cancels])
        if lines is not None and selected is not None:
            self.runs_pane.show_log(selected, lines)

    @on(RunsPane.LogRequest)
    def _log_request(self, event: RunsPane.LogRequest) -> None:
        self.load_log(event.job_id)

    @work(thread=True, exclusive=True, group="log", exit_on_error=False, name="loading the log")
    def load_log(self, job_id: str) -> None:
        with self.app.ws.catalog() as db:
            lines = load_job_logs(db, job_id)
            job = load_job(db, job_id)
        self.app.call_from_thread(self.runs_pane.show_log, job_id, lines, job)
