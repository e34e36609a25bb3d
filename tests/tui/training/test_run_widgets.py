"""Pilot tests of TrainingRunView (live polling of a run) and RunHistory (compare two runs),
mounted in a tiny test app over a real catalog filled the way `graftwork train` fills it."""

from __future__ import annotations

from collections.abc import Callable

from textual.app import App, ComposeResult
from textual.widgets import Static
from textual_plotext import PlotextPlot

from graftwork.core.base.jobs import Job
from graftwork.core.base.workspace import Workspace
from graftwork.core.train.runs import create_run, record_event, update_run
from graftwork.tui.training import run_view
from graftwork.tui.training.run_history import RunHistory
from graftwork.tui.training.run_view import TrainingRunView
from tests.tui.helpers import until


def _train_points(ws: Workspace, run_id: str, iters: range, base: float) -> None:
    db = ws.catalog()
    for it in iters:
        record_event(
            db,
            run_id,
            {
                "type": "train",
                "iteration": it,
                "loss": base / it,
                "learning_rate": 1e-3,
                "it_per_sec": 6.5,
                "tokens_per_sec": 1800.0,
                "peak_memory_gb": 0.12,
            },
        )
        if it % 10 == 0:
            record_event(
                db, run_id, {"type": "val", "iteration": it, "loss": base / it + 0.2, "best": True}
            )
    db.close()


def _run(ws: Workspace, run_id: str, state: str = "done", with_job: bool = False) -> None:
    db = ws.catalog()
    job_id = None
    if with_job:
        job = Job(db, "train", {"run": run_id})
        job.log("loading model")
        job.log("iteration 10: train loss 0.5")
        job_id = job.id
    create_run(
        db,
        id=run_id,
        set_name="widgets",
        config={"model": "tiny"},
        state=state,
        total_iters=40,
        job_id=job_id,
    )
    db.close()


class Host(App[None]):
    def __init__(self, widget_factory: Callable[[], object]) -> None:
        super().__init__()
        self.factory = widget_factory
        self.chosen: list[str] = []

    def compose(self) -> ComposeResult:
        yield self.factory()  # type: ignore[misc]

    def on_run_history_run_chosen(self, message: RunHistory.RunChosen) -> None:
        self.chosen.append(message.run_id)


async def test_run_view_follows_a_running_run_until_it_ends(
    workspace: Workspace, monkeypatch
) -> None:
    monkeypatch.setattr(run_view, "POLL_SECONDS", 0.05)
    _run(workspace, "run-live", state="running", with_job=True)
    _train_points(workspace, "run-live", range(1, 11), 4.0)
    app = Host(lambda: TrainingRunView(workspace, "run-live"))
    async with app.run_test(size=(120, 40)) as pilot:
        view = app.query_one(TrainingRunView)
        await until(pilot, lambda: view.snapshot is not None and len(view.snapshot.train) == 10)
        header = str(view.query_one("#run-header", Static).render())
        assert "run-live" in header and "running" in header and "iteration 10/40" in header
        stats = str(view.query_one("#run-stats", Static).render())
        assert "tokens/s 1800" in stats and "it/s 6.50" in stats and "peak memory 0.12 GB" in stats
        assert "iteration 10: train loss 0.5" in str(view.query_one("#run-log", Static).render())
        chart = str(view.query_one("#run-chart", PlotextPlot).render())
        assert "train" in chart and "val" in chart
        # More points arrive while it runs (written by another connection, as the trainer does).
        _train_points(workspace, "run-live", range(11, 21), 4.0)
        await until(pilot, lambda: len(view.snapshot.train) == 20 and len(view.snapshot.val) == 2)
        db = workspace.catalog()
        update_run(db, "run-live", state="done", best_val_loss=0.4, best_iteration=20)
        db.close()
        await until(pilot, lambda: view.snapshot.run["state"] == "done")
        # A poll started by a tick just before "done" was seen may still be in flight: let it
        # land; from then on the finished run is not polled.
        await until(
            pilot,
            lambda: (
                not any(w.is_running for w in app.workers) and view.snapshot.run["state"] == "done"
            ),
        )
        polls = view.polls
        await pilot.pause(0.3)
        assert view.polls == polls  # a finished run is not polled any more
        assert "best val 0.4000 @ 20" in str(view.query_one("#run-header", Static).render())


async def test_run_view_of_an_unknown_run_says_so(workspace: Workspace) -> None:
    app = Host(lambda: TrainingRunView(workspace, "nope"))
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TrainingRunView)
        await until(pilot, lambda: view.snapshot is not None)
        assert "no run 'nope'" in str(view.query_one("#run-header", Static).render())


async def test_history_compares_two_runs_curves(workspace: Workspace) -> None:
    for run_id, base in (
        ("20261122-010000-a", 4.0),
        ("20261122-020000-b", 2.0),
        ("20261122-030000-c", 1.0),
    ):
        _run(workspace, run_id)
        _train_points(workspace, run_id, range(1, 21), base)
    app = Host(lambda: RunHistory(workspace))
    async with app.run_test(size=(140, 40)) as pilot:
        history = app.query_one(RunHistory)
        await until(pilot, lambda: len(history.runs) == 3 and bool(history.curves))
        assert [r["id"] for r in history.runs] == [
            "20261122-030000-c",
            "20261122-020000-b",
            "20261122-010000-a",
        ]
        assert list(history.curves) == ["20261122-030000-c"]  # nothing marked: the highlighted run
        history.query_one("#history-table").focus()
        await pilot.press("space", "down", "space")
        await until(
            pilot, lambda: list(history.curves) == ["20261122-030000-c", "20261122-020000-b"]
        )
        c, b = history.curves["20261122-030000-c"], history.curves["20261122-020000-b"]
        assert c.train[0] == (1, 1.0) and b.train[0] == (1, 2.0)
        chart = str(history.query_one("#history-chart", PlotextPlot).render())
        assert "030000-c val" in chart and "020000-b val" in chart
        await pilot.press("down", "space")  # a third mark replaces the oldest
        await until(
            pilot, lambda: list(history.curves) == ["20261122-020000-b", "20261122-010000-a"]
        )
        await pilot.press("enter")
        await until(pilot, lambda: app.chosen == ["20261122-010000-a"])


async def test_run_view_accepts_the_training_job_id(workspace: Workspace) -> None:
    _run(workspace, "run-by-job", with_job=True)
    db = workspace.catalog()
    job_id = db["runs"].get("run-by-job")["job_id"]
    db.close()
    app = Host(lambda: TrainingRunView(workspace, job_id))  # what the Runs pane has in hand
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(TrainingRunView)
        await until(pilot, lambda: view.snapshot is not None)
        assert view.snapshot.run["id"] == "run-by-job"


async def test_history_shows_markup_in_user_data_literally(workspace: Workspace) -> None:
    db = workspace.catalog()
    create_run(
        db,
        id="20261122-040000-m",
        set_name="[bold]set",
        config={"model": "/m/[/x]"},
        state="done",
        total_iters=4,
    )
    db.close()
    app = Host(lambda: RunHistory(workspace))
    async with app.run_test(size=(140, 40)) as pilot:
        history = app.query_one(RunHistory)
        await until(pilot, lambda: len(history.runs) == 1)
        row = [
            str(cell) for cell in history.query_one("#history-table").get_row("20261122-040000-m")
        ]
        assert row[2] == "[bold]set" and row[6] == "/m/[/x]"


async def test_history_plots_an_eval_metric_across_runs(workspace: Workspace) -> None:
    from graftwork.core.eval.store import Score, record_scores

    runs = ("20261122-010000-a", "20261122-020000-b", "20261122-030000-c")
    for run_id in runs:
        _run(workspace, run_id)
    with workspace.catalog() as db:
        for run_id, ppl in ((runs[0], 9.0), (runs[2], 4.5)):  # b was never evaluated
            record_scores(
                db,
                run_id,
                checkpoint="best",
                source="split:test",
                scores=[
                    Score("base", "perplexity", 40.0, 8),
                    Score("adapter", "perplexity", ppl, 8),
                    Score("adapter", "jsx_parses", 0.5, 8),
                ],
            )
    app = Host(lambda: RunHistory(workspace))
    async with app.run_test(size=(140, 40)) as pilot:
        history = app.query_one(RunHistory)
        await until(
            pilot,
            lambda: len(history.runs) == 3 and history.metrics == ["perplexity", "jsx_parses"],
        )
        history.query_one("#history-table").focus()
        await pilot.press("m")
        await until(
            pilot, lambda: [p["run_id"] for p in history.metric_points] == [runs[0], runs[2]]
        )
        assert [(p["base"], p["adapter"]) for p in history.metric_points] == [
            (40.0, 9.0),
            (40.0, 4.5),
        ]
        chart = str(history.query_one("#history-chart", PlotextPlot).render())
        assert "perplexity across runs" in chart and "adapter" in chart and "base" in chart
        await pilot.press("m")
        await until(
            pilot,
            lambda: (
                history.chart_metric == "jsx_parses" and history.metric_points[0]["adapter"] == 0.5
            ),
        )
        await pilot.press("m")  # back to the loss curves
        await until(pilot, lambda: history.chart_metric is None)
        await until(
            pilot, lambda: "loss" in str(history.query_one("#history-chart", PlotextPlot).render())
        )
