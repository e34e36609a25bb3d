"""RunHistoryScreen(ws): the history of training runs full screen (RunHistory), opened from the
Runs pane (`h`, palette `runs: compare training runs`). Space marks up to two runs whose loss
curves share one chart; Escape closes; Enter dismisses with (run_id, job_id or None) so the
Runs pane can select the job that trained the chosen run. RunHistory reads the catalog in
thread workers; this screen reads nothing itself."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from graftwork.core.base.workspace import Workspace
from graftwork.tui.training.run_history import RunHistory

Chosen = tuple[str, str | None]  # (run id, the id of the job that trained it, if any)


class RunHistoryScreen(Screen[Chosen | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", "Close", id="history.close"),
    ]
    DEFAULT_CSS = """
    RunHistoryScreen #history-title { height: 1; padding: 0 1; background: $primary-background; }
    """

    def __init__(self, ws: Workspace) -> None:
        super().__init__()
        self.ws = ws

    def compose(self) -> ComposeResult:
        yield Static(
            Text(
                "Training runs · space marks two to compare · enter selects its job in Runs",
                style="bold",
            ),
            id="history-title",
        )
        yield RunHistory(self.ws, id="run-history")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#history-table", DataTable).focus()

    @property
    def history(self) -> RunHistory:
        return self.query_one(RunHistory)

    @on(RunHistory.RunChosen)
    def _chosen(self, event: RunHistory.RunChosen) -> None:
        event.stop()
        run = next((r for r in self.history.runs if r["id"] == event.run_id), {})
        self.dismiss((event.run_id, run.get("job_id") or None))

    def action_close(self) -> None:
        self.dismiss(None)
