"""Work whose process was killed shows as `interrupted ↻` in the workstation, with the next
step: the Runs pane's log of the job says how to resume it, the run history says
`graftwork train --resume RUN` for a killed training run. Real killed processes (SIGKILL),
the real app under the pilot."""

from __future__ import annotations

import signal

from support.kills import job_process, killed_job
from textual.widgets import DataTable, RichLog, Static

from graftwork.core.base.workspace import Workspace
from graftwork.core.train.runs import create_run
from graftwork.tui.training.history_screen import RunHistoryScreen
from graftwork.tui.training.run_history import RunHistory
from tests.tui.helpers import main_screen, settle, until

RUN = "20261201-080000-widgets-k1"


async def test_interrupted_jobs_and_runs_show_how_to_resume(
    make_app, fixture_ws: Workspace
) -> None:
    teach_job = killed_job(fixture_ws, "teach", {"critique": False})
    trainer, train_job = job_process(fixture_ws, "train", {"set_name": "widgets"})
    with fixture_ws.catalog() as db:  # the run a live training process drives
        create_run(
            db, id=RUN, set_name="widgets", config={"model": "tiny"}, job_id=train_job,
            total_iters=40,
        )  # fmt: skip
    trainer.send_signal(signal.SIGKILL)
    trainer.wait(timeout=10)
    with fixture_ws.catalog() as db:  # the next open marks the job and its run
        assert db["runs"].get(RUN)["state"] == "interrupted"
        assert db["jobs"].get(teach_job)["state"] == "interrupted"

    app = make_app()
    async with app.run_test(size=(150, 44)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("4")
        table = screen.query_one("#runs-table", DataTable)
        await until(pilot, lambda: teach_job in screen.runs_pane.order)
        assert str(table.get_row(teach_job)[2]) == "interrupted ↻"
        assert screen.runs_pane.select_job(teach_job)
        log = screen.query_one("#runs-log", RichLog)
        await until(pilot, lambda: "teach prompts" in "".join(line.text for line in log.lines))
        text = " ".join("".join(line.text for line in log.lines).split())
        assert "ended without finishing" in text
        assert "rerun `graftwork teach prompts` to resume" in text
        assert screen.runs_pane.select_job(train_job)  # the killed trainer names its run
        await until(pilot, lambda: "--resume" in "".join(line.text for line in log.lines))
        text = " ".join("".join(line.text for line in log.lines).split())
        assert f"graftwork train --resume {RUN}" in text

        await pilot.press("h")
        await until(pilot, lambda: isinstance(app.screen, RunHistoryScreen))
        history = app.screen.query_one(RunHistory)
        await until(pilot, lambda: any(r["id"] == RUN for r in history.runs))
        rows = history.query_one("#history-table", DataTable)
        rows.move_cursor(row=[r["id"] for r in history.runs].index(RUN))
        await settle(pilot)
        assert str(rows.get_row(RUN)[3]) == "interrupted ↻"
        hint = str(history.query_one("#history-hint", Static).render())
        assert f"graftwork train --resume {RUN}" in " ".join(hint.split())
