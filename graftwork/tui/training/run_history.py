"""RunHistory(ws): every training run in a table; mark up to two with space and their loss
curves are drawn together (validation solid colors, train dimmer) to compare them. `m` turns
the chart to an evaluation metric across runs (`graftwork eval` scores: adapter and base per
run, oldest first; pressed again, the next metric, then back to the loss curves). Enter posts
RunHistory.RunChosen so the app can open that run (TrainingRunView, review screen)."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.widget import Widget
from textual.widgets import DataTable, Static
from textual.worker import Worker
from textual_plotext import PlotextPlot

from graftwork.core.base.resume import train_hint
from graftwork.core.base.workspace import Workspace
from graftwork.tui.training.data import RunSnapshot, load_curves, load_runs
from graftwork.tui.training.run_view import draw_curves
from graftwork.tui.worker_errors import report_worker_error

MAX_COMPARED = 2
KEYS_HINT = "space: mark up to two runs to compare their curves · enter: open run"
COLORS = [("cyan", "blue"), ("orange", "red")]  # (val, train) per compared run


class RunHistory(Widget):
    class RunChosen(Message):
        def __init__(self, run_id: str) -> None:
            super().__init__()
            self.run_id = run_id

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "mark", "Compare", id="runs.compare"),
        Binding("m", "metric", "Eval metric", id="runs.metric"),
        Binding("R", "reload", "Reload", id="runs.reload", show=False),
    ]
    DEFAULT_CSS = """
    RunHistory { height: 1fr; layout: vertical; }
    RunHistory #history-table { height: 2fr; min-height: 5; }
    RunHistory #history-chart { height: 3fr; min-height: 10; }
    RunHistory #history-hint { height: auto; max-height: 3; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, ws: Workspace, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ws = ws
        self.runs: list[dict[str, Any]] = []
        self.marked: list[str] = []
        self.curves: dict[str, RunSnapshot] = {}
        self.metrics: list[str] = []  # evaluation metrics measured on some run
        self.chart_metric: str | None = None  # None: loss curves
        self.metric_points: list[dict[str, Any]] = []

    def compose(self) -> ComposeResult:
        table: DataTable[str] = DataTable(id="history-table", cursor_type="row", zebra_stripes=True)
        table.add_columns("", "run", "set", "state", "iters", "best val", "model")
        yield table
        yield Static(
            "space: mark up to two runs to compare their curves · m: an eval metric across runs "
            "· enter: open run",
            id="history-hint",
        )
        yield PlotextPlot(id="history-chart")

    def on_mount(self) -> None:
        self.reload()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_error(self, event)  # an unreadable catalog is a notification, not a crash

    @work(
        thread=True,
        exclusive=True,
        group="run-history-load",
        exit_on_error=False,
        name="run history",
    )
    def reload(self) -> None:
        from graftwork.core.eval.store import metric_names

        runs = load_runs(self.ws)
        with self.ws.catalog() as db:
            metrics = metric_names(db)
        self.app.call_from_thread(self._loaded, runs, metrics)

    def _loaded(self, runs: list[dict[str, Any]], metrics: list[str] | None = None) -> None:
        if not self.is_attached:  # its screen closed while the worker read
            return
        self.runs = runs
        self.metrics = metrics or []
        ids = {r["id"] for r in runs}
        self.marked = [m for m in self.marked if m in ids]
        self._fill()
        self._load_curves()

    def _fill(self) -> None:
        table = self.query_one("#history-table", DataTable)
        row = table.cursor_row
        table.clear()
        for r in self.runs:
            config = r.get("config") if isinstance(r.get("config"), dict) else {}
            best = r.get("best_val_loss")
            mark = str(self.marked.index(r["id"]) + 1) if r["id"] in self.marked else ""
            # Text cells: a DataTable parses plain strings as markup, and set names and model
            # paths are user data.
            table.add_row(
                Text(mark),
                Text(r["id"]),
                Text(r.get("set_name") or ""),
                Text(
                    "interrupted ↻" if r.get("state") == "interrupted" else r.get("state") or "",
                    "magenta" if r.get("state") == "interrupted" else "",
                ),
                Text(f"{r.get('last_iteration') or 0}/{r.get('total_iters') or '?'}"),
                Text("-" if best is None else f"{best:.4f}"),
                Text(str(config.get("model", ""))),
                key=r["id"],
            )
        if self.runs:
            table.move_cursor(row=min(row, len(self.runs) - 1))
        self._show_hint()

    def selected_id(self) -> str | None:
        table = self.query_one("#history-table", DataTable)
        if not self.runs or table.cursor_row < 0:
            return None
        return self.runs[min(table.cursor_row, len(self.runs) - 1)]["id"]

    def action_mark(self) -> None:
        run_id = self.selected_id()
        if run_id is None:
            return
        if run_id in self.marked:
            self.marked.remove(run_id)
        else:
            self.marked = [*self.marked, run_id][-MAX_COMPARED:]  # a third mark replaces the oldest
        self._fill()
        self._load_curves()

    def action_reload(self) -> None:
        self.reload()

    @on(DataTable.RowHighlighted, "#history-table")
    def _highlighted(self) -> None:
        self._show_hint()
        if not self.marked:
            self._load_curves()  # nothing marked: show the highlighted run

    def _show_hint(self) -> None:
        """The keys, or for an interrupted run how to resume it."""
        run_id = self.selected_id()
        run = next((r for r in self.runs if r["id"] == run_id), None)
        hint = self.query_one("#history-hint", Static)
        if run is not None and run.get("state") == "interrupted":
            hint.update(Text(f"{run_id} was interrupted: {train_hint(run_id)}", style="magenta"))
        else:
            hint.update(KEYS_HINT)

    @on(DataTable.RowSelected, "#history-table")
    def _chosen(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value:
            self.post_message(self.RunChosen(str(event.row_key.value)))

    def compared(self) -> list[str]:
        if self.marked:
            return list(self.marked)
        current = self.selected_id()
        return [current] if current else []

    def action_metric(self) -> None:
        """Loss curves -> each evaluation metric in turn -> loss curves."""
        if not self.metrics:
            self.notify("No evaluation scores yet: graftwork eval --run RUN", severity="warning")
            return
        order = [None, *self.metrics]
        now = order.index(self.chart_metric) if self.chart_metric in order else 0
        self.chart_metric = order[(now + 1) % len(order)]
        self._load_curves()

    @work(
        thread=True,
        exclusive=True,
        group="run-history-curves",
        exit_on_error=False,
        name="loss curves",
    )
    def _load_curves(self) -> None:
        metric = self.chart_metric
        if metric is not None:
            from graftwork.core.eval.store import metric_history

            with self.ws.catalog() as db:
                points = metric_history(db, metric)
            self.app.call_from_thread(self._draw_metric, metric, points)
            return
        ids = self.compared()
        curves = load_curves(self.ws, ids)
        self.app.call_from_thread(self._draw, ids, curves)

    def _draw_metric(self, metric: str, points: list[dict[str, Any]]) -> None:
        """One point per evaluated run (oldest first): the adapter, the base, the judge."""
        if not self.is_attached or metric != self.chart_metric:
            return
        self.metric_points = points
        plot = self.query_one("#history-chart", PlotextPlot)
        plt = plot.plt
        plt.clear_data()
        plt.clear_figure()
        plt.title(f"{metric} across runs (oldest first)")
        plt.xlabel("run")
        xs = list(range(1, len(points) + 1))
        for model, color in (("adapter", "cyan"), ("base", "orange"), ("pair", "magenta")):
            got = [(x, p[model]) for x, p in zip(xs, points, strict=True) if p[model] is not None]
            if got:
                label = "judge" if model == "pair" else model
                plt.plot(
                    [x for x, _ in got],
                    [y for _, y in got],
                    label=label,
                    color=color,
                    marker="braille",
                )
        if points:
            plt.xticks(xs, [p["run_id"][-12:] for p in points])
        else:
            plt.title(f"{metric}: no run measured it")
        plot.refresh()

    def _draw(self, ids: list[str], curves: dict[str, RunSnapshot]) -> None:
        if not self.is_attached or self.chart_metric is not None:
            return
        self.curves = curves
        series = []
        for n, rid in enumerate(ids):
            snap = curves.get(rid)
            if snap is None:
                continue
            val_color, train_color = COLORS[n % len(COLORS)]
            short = rid[-12:]
            series += [
                (f"{short} val", snap.val, val_color),
                (f"{short} train", snap.train, train_color),
            ]
        title = "loss: " + " vs ".join(rid[-12:] for rid in ids) if ids else "loss"
        draw_curves(self.query_one("#history-chart", PlotextPlot), series, title)
