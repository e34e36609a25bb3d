"""TrainingRunView(ws, run_id): one run, live. Train and validation loss as a chart, speed
(tokens/s, iterations/s), peak memory, learning rate and the log tail. It polls the catalog
(`runs`, `run_metrics`, the run's job log) in a thread worker every POLL_SECONDS while the run
is running, so it works for a run started by the app or by `graftwork train` in a terminal."""

from __future__ import annotations

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widget import Widget
from textual.widgets import Static
from textual.worker import Worker, get_current_worker
from textual_plotext import PlotextPlot

from graftwork.core.base.workspace import Workspace
from graftwork.tui.training.data import RunSnapshot, load_snapshot
from graftwork.tui.worker_errors import report_worker_error

POLL_SECONDS = 1.0
STATE_STYLE = {
    "running": "yellow",
    "done": "green",
    "cancelled": "magenta",
    "failed": "red",
    "interrupted": "magenta",
}


def draw_curves(
    plot: PlotextPlot, series: list[tuple[str, list[tuple[int, float]], str]], title: str
) -> None:
    """Line per (label, points, color); an empty chart says so instead of drawing axes."""
    plt = plot.plt
    plt.clear_data()
    plt.clear_figure()
    plt.title(title)
    plt.xlabel("iteration")
    drawn = False
    for label, points, color in series:
        if points:
            xs, ys = zip(*points, strict=True)
            plt.plot(list(xs), list(ys), label=label, color=color, marker="braille")
            drawn = True
    if not drawn:
        plt.title(f"{title} (no points yet)")
    plot.refresh()


class TrainingRunView(Widget):
    DEFAULT_CSS = """
    TrainingRunView { height: 1fr; layout: vertical; }
    TrainingRunView #run-header { height: 1; padding: 0 1; }
    TrainingRunView #run-chart { height: 1fr; min-height: 10; }
    TrainingRunView #run-stats { height: 1; padding: 0 1; color: $text-muted; }
    TrainingRunView #run-log { height: auto; max-height: 9; padding: 0 1; border-top: solid $primary-darken-2; }
    """

    def __init__(self, ws: Workspace, run_id: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.ws = ws
        self.run_id = run_id
        self.snapshot: RunSnapshot | None = None
        self.polls = 0

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(Text(f"run {self.run_id}: loading…"), id="run-header")
            yield PlotextPlot(id="run-chart")
            yield Static("", id="run-stats")
            yield Static("", id="run-log")

    def on_mount(self) -> None:
        self.poll()
        self._timer = self.set_interval(POLL_SECONDS, self._tick)

    def _tick(self) -> None:
        if self.snapshot is None or self.snapshot.running:
            self.poll()
        else:
            self._timer.pause()  # finished: nothing will change any more

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_error(self, event)  # a notification, not a crash

    @work(
        thread=True,
        exclusive=True,
        group="run-view-poll",
        exit_on_error=False,
        name="training view",
    )
    def poll(self) -> None:
        snap = load_snapshot(self.ws, self.run_id)
        # A newer poll replaced this one (exclusive): its older snapshot must not be shown after
        # the newer one (a "running" one would wake the finished view's polling again).
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._show, snap)

    def _show(self, snap: RunSnapshot) -> None:
        self.snapshot = snap
        self.polls += 1
        header = self.query_one("#run-header", Static)
        if snap.run is None:
            header.update(Text(f"run {self.run_id}: {snap.error}", style="red"))
            return
        run = snap.run
        state = run.get("state") or "?"
        done, total = run.get("last_iteration") or 0, run.get("total_iters") or "?"
        best = run.get("best_val_loss")
        header.update(
            Text.assemble(
                (f"{run['id']}", "bold"),
                f"  set {run.get('set_name')}  ",
                (state, STATE_STYLE.get(state, "")),
                f"  iteration {done}/{total}",
                f"  best val {best:.4f} @ {run.get('best_iteration')}"
                if best is not None
                else "  best val -",
            )
        )
        draw_curves(
            self.query_one("#run-chart", PlotextPlot),
            [("train", snap.train, "cyan"), ("val", snap.val, "orange")],
            "loss",
        )
        p = snap.latest
        self.query_one("#run-stats", Static).update(
            f"tokens/s {_num(p.get('tokens_per_sec'), '.0f')}   it/s {_num(p.get('it_per_sec'), '.2f')}   "
            f"peak memory {_num(p.get('peak_memory_gb'), '.2f')} GB   lr {_num(p.get('learning_rate'), '.2e')}"
        )
        self.query_one("#run-log", Static).update(
            Text("\n".join(snap.log_tail) or "(no log yet)", style="dim")
        )


def _num(value: float | None, spec: str) -> str:
    return "-" if value is None else format(value, spec)
