"""The workstation app: wires the main screen, keys, palette, keymap and the catalog check.

`run_app(ws)` is the entry point used by `graftwork`, `graftwork tui` and `graftwork demo`; it
builds the Services facade in the composition root. Tests build `GraftworkApp(ws, services)`.
"""

from __future__ import annotations

import gc
import logging
import os
import sys
from collections.abc import Iterable
from typing import Any, ClassVar

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker

from graftwork.core.base.errors import GraftworkError, explain
from graftwork.core.base.workspace import Workspace
from graftwork.core.services import Services
from graftwork.tui.screens.error import ErrorScreen
from graftwork.tui.screens.help import HelpScreen, help_text
from graftwork.tui.worker_errors import report_worker_error


class GraftworkApp(App[None]):
    CSS_PATH: ClassVar[list[str]] = ["app.tcss", "screens/main.tcss"]
    TITLE = "graftwork"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+q", "quit", "Quit", priority=True, id="app.quit", tooltip="Quit (edits are saved)"
        ),
        Binding("question_mark,f1", "help", "Help", id="app.help", tooltip="Every key"),
    ]

    def __init__(self, ws: Workspace, services: Services, *, graphics: bool = False) -> None:
        super().__init__()
        self.ws, self.services, self.graphics = ws, services, graphics
        self.keymap_problems: list[str] = []
        # The first pane: None is the Übersicht widgets pane, else the recipe's RecipeView
        # (core/recipes/views.py) shown by the items pane in ``item_columns``.
        self.item_view: Any = None
        self.item_columns: tuple[Any, ...] = ()
        self.item_source = ""  # the recipe's items.source

    # -- startup ---------------------------------------------------------------------------
    def on_mount(self) -> None:
        self.check_catalog()

    def _apply_keymap(self, keymap: dict[str, Any]) -> None:
        known = {b.id for _, bindings in self.binding_groups() for b in bindings if b.id}
        clean: dict[str, str] = {}
        for binding_id, keys in keymap.items():
            if binding_id not in known:
                self.keymap_problems.append(f"keymap: unknown binding id '{binding_id}'")
            elif not isinstance(keys, str) or not keys.strip():
                self.keymap_problems.append(
                    f"keymap: '{binding_id}' needs a key string, got {keys!r}"
                )
            else:
                clean[binding_id] = keys.strip()
        self.set_keymap(clean)
        for problem in self.keymap_problems:
            self.notify(problem, severity="warning", markup=False, timeout=8)

    @work(thread=True, exit_on_error=False, group="startup", name="opening the catalog")
    def check_catalog(self) -> None:
        """Read the keymap and open (and migrate) the catalog off the UI thread; a locked or
        corrupt catalog gets a clear error screen instead of a traceback."""
        from graftwork.core.base.config import workspace_settings

        try:
            keymap = workspace_settings(self.ws).get("keymap") or {}
        except GraftworkError as exc:
            self.keymap_problems.append(str(exc))
            keymap = {}
        self._resolve_view()
        self.call_from_thread(self._apply_keymap, keymap)
        try:
            self.ws.catalog().close()
        except GraftworkError as exc:
            self.call_from_thread(self._fatal, "The catalog cannot be opened", str(exc))
            return
        except Exception as exc:  # anything else sqlite can raise: still no traceback
            self.call_from_thread(self._fatal, "The catalog cannot be opened", explain(exc).line)
            return
        self.call_from_thread(self._start)

    def _resolve_view(self) -> None:
        """The workspace recipe's items view (worker thread: it imports the recipe's module).
        A recipe that cannot be read or a view that fails to load is a notification, and the
        workstation opens with the basic view (or the widgets pane) instead of failing."""
        from graftwork.core.recipes import DEFAULT_RECIPE, workspace_recipe
        from graftwork.core.recipes.basic_view import BasicView, view_for

        try:
            recipe = workspace_recipe(self.ws)
        except GraftworkError as exc:
            self.keymap_problems.append(str(exc))
            return
        if recipe.name == DEFAULT_RECIPE:
            return
        self.item_source = recipe.source
        try:
            view = view_for(self.ws, recipe)
        except Exception as exc:  # a broken view module: say so, show the basic list
            self.keymap_problems.append(f"recipe {recipe.name}: its view failed to load ({exc})")
            view = BasicView(self.ws, recipe)
        self.item_columns = tuple(getattr(view, "columns", None) or recipe.columns)
        if not self.item_columns:
            self.item_columns = BasicView.columns
            view = BasicView(self.ws, recipe)
        self.item_view = view

    def _start(self) -> None:
        from graftwork.tui.screens.main import MainScreen

        self.push_screen(MainScreen())

    def _fatal(self, title: str, message: str) -> None:
        self.push_screen(ErrorScreen(title, message))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_error(self, event)

    @property
    def main(self) -> Any:
        from graftwork.tui.screens.main import MainScreen

        for screen in self.screen_stack:
            if isinstance(screen, MainScreen):
                return screen
        return None

    # -- keys, help, palette ---------------------------------------------------------------
    def binding_groups(self) -> list[tuple[str, list[Binding]]]:
        from graftwork.tui.screens.main import MainScreen
        from graftwork.tui.widgets.budget_pane import BudgetPane
        from graftwork.tui.widgets.items_pane import ItemsPane, ItemTable
        from graftwork.tui.widgets.prompt_pane import PromptPane
        from graftwork.tui.widgets.runs_pane import RunsPane
        from graftwork.tui.widgets.widgets_pane import WidgetsPane, WidgetTable

        def only(bindings: Iterable[Any]) -> list[Binding]:
            return [b for b in bindings if isinstance(b, Binding)]

        if self.item_view is None:
            first = ("1 Widgets", only(WidgetsPane.BINDINGS) + only(WidgetTable.BINDINGS))
        else:
            first = (
                "1 Items",
                only(ItemsPane.BINDINGS)
                + only(ItemTable.BINDINGS)
                + ItemsPane.action_bindings(self.item_view),
            )

        return [
            (
                "App",
                [
                    *only(self.BINDINGS),
                    Binding(
                        "ctrl+p",
                        "command_palette",
                        "Command palette",
                        tooltip="Every action, titled area: verb",
                    ),
                ],
            ),
            ("Panes", only(MainScreen.BINDINGS)),
            first,
            ("2 Prompt", only(PromptPane.BINDINGS)),
            ("3 Budget", only(BudgetPane.BINDINGS)),
            ("4 Runs", only(RunsPane.BINDINGS)),
        ]

    def action_help(self) -> None:
        if isinstance(self.screen, HelpScreen):
            return
        self.push_screen(
            HelpScreen(help_text(self.binding_groups(), self._keymap, self.get_key_display_for))
        )

    def get_key_display_for(self, key: str) -> str:
        return self.get_key_display(Binding(key, ""))

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        from graftwork.tui.commands import palette_commands
        from graftwork.tui.screens.main import MainScreen

        if isinstance(screen, MainScreen):
            yield from palette_commands(screen)
        yield from super().get_system_commands(screen)

    async def action_quit(self) -> None:
        """Save a pending prompt edit before leaving (nothing typed is lost)."""
        main = self.main
        if main is not None:
            pane = main.prompt_pane
            pane.flush()
            for worker in list(self.workers):
                if worker.group == "prompt-save":
                    await worker.wait()
        self.exit()


GRAPHICS_TERMINALS = (
    "kitty",
    "wezterm",
    "iterm",
    "ghostty",
    "konsole",
    "foot",
    "mlterm",
    "contour",
)


def _graphics_supported() -> bool:
    """Terminal graphics (kitty protocol or sixel) on terminals known to draw them.

    textual-image finds out by querying the terminal, which must happen before Textual takes
    it over; a terminal that never answers can leave its input in a state where later keys
    go missing. So the query runs only where the environment names a graphics-capable
    terminal, or when GRAFTWORK_GRAPHICS=1; GRAFTWORK_GRAPHICS=0 never queries. Everything
    else gets the character-cell (half block) screenshot."""
    choice = os.environ.get("GRAFTWORK_GRAPHICS", "").lower()
    if not sys.stdout.isatty() or choice in ("0", "no", "off"):
        return False
    names = " ".join(os.environ.get(k, "") for k in ("TERM", "TERM_PROGRAM", "LC_TERMINAL")).lower()
    known = any(name in names for name in GRAPHICS_TERMINALS) or "KITTY_WINDOW_ID" in os.environ
    if not (known or choice in ("1", "yes", "on")):
        return False
    # textual-image logs a traceback when a query goes unanswered: keep the terminal clean.
    logging.getLogger("textual_image").setLevel(logging.CRITICAL)
    try:
        import textual_image.renderable as renderable
        import textual_image.widget  # noqa: F401  (queries the terminal's cell size once)
    except Exception:  # no package, or a terminal that does not answer
        return False
    return renderable.Image in (renderable.TGPImage, renderable.SixelImage)


def run_app(ws: Workspace) -> None:
    from graftwork.wiring import build_services  # composition root: the only adapter door

    GraftworkApp(ws, build_services(ws), graphics=_graphics_supported()).run()
    gc.unfreeze()  # the main screen froze long-lived rows; a frozen heap makes exit crawl
