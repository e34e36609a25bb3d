"""The history of training runs opened from the Runs pane of the real app: `h` shows it, two
marked runs share the loss chart, Escape closes, Enter selects the run's job in Runs."""

from __future__ import annotations

from textual_plotext import PlotextPlot

from graftwork.core.base.workspace import Workspace
from graftwork.tui.commands import palette_commands
from graftwork.tui.screens.main import MainScreen
from graftwork.tui.training.history_screen import RunHistoryScreen
from graftwork.tui.training.run_history import RunHistory
from tests.tui.helpers import main_screen, until
from tests.tui.training.test_run_widgets import _run, _train_points

OLD, NEW = "20261122-010000-a", "20261122-020000-b"


def _two_runs(ws: Workspace) -> str:
    _run(ws, OLD)
    _run(ws, NEW, with_job=True)
    for run_id, base in ((OLD, 4.0), (NEW, 2.0)):
        _train_points(ws, run_id, range(1, 21), base)
    db = ws.catalog()
    job_id = db["runs"].get(NEW)["job_id"]
    db.close()
    return job_id


async def test_runs_pane_opens_history_and_compares_two_runs(
    make_app, fixture_ws: Workspace
) -> None:
    job_id = _two_runs(fixture_ws)
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        main = await main_screen(pilot)
        assert "runs: compare training runs" in [c.title for c in palette_commands(main)]
        await pilot.press("4", "h")
        await until(pilot, lambda: isinstance(app.screen, RunHistoryScreen))
        history = app.screen.query_one(RunHistory)
        await until(pilot, lambda: len(history.runs) == 2 and bool(history.curves))
        await pilot.press("space", "down", "space")
        await until(pilot, lambda: list(history.curves) == [NEW, OLD])
        assert history.curves[NEW].train[0] == (1, 2.0) and history.curves[OLD].train[0] == (1, 4.0)
        chart = str(history.query_one("#history-chart", PlotextPlot).render())
        assert "020000-b val" in chart and "010000-a val" in chart
        await pilot.press("escape")
        await until(pilot, lambda: app.screen is main)

        # Enter on a run closes the history and selects the job that trained it.
        await pilot.press("down")  # the new train job is on top: move off it first
        await until(pilot, lambda: main.runs_pane.selected_id not in (None, job_id))
        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, RunHistoryScreen))
        history = app.screen.query_one(RunHistory)
        await until(pilot, lambda: len(history.runs) == 2)
        assert history.selected_id() == NEW
        await pilot.press("enter")
        await until(pilot, lambda: isinstance(app.screen, MainScreen))
        await until(pilot, lambda: main.runs_pane.selected_id == job_id)


async def test_review_opens_from_a_sample_job(make_app, fixture_ws: Workspace) -> None:
    from graftwork.core.base.jobs import Job
    from graftwork.tui.training.review_screen import ReviewScreen

    _run(fixture_ws, OLD, with_job=True)
    db = fixture_ws.catalog()
    job = Job(db, "sample", {"run": OLD})  # what `graftwork sample --run` records
    job.finish()
    db.close()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        main = await main_screen(pilot)
        await pilot.press("4")
        await until(pilot, lambda: job.id in main.runs_pane.jobs)
        assert main.runs_pane.select_job(job.id)
        await until(pilot, lambda: main.runs_pane.selected_id == job.id)
        await pilot.press("v")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await until(
            pilot, lambda: "sample(s)" in str(app.screen.query_one("#review-title").render())
        )
        assert app.screen.run_id == OLD
