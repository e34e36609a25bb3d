"""Budget pane (limit preview, histogram) and Runs pane (jobs, stored logs, live stages,
errors as notifications, cancel), plus building a set from the command palette."""

from __future__ import annotations

import threading

from textual.widgets import DataTable, Input, RichLog, TabbedContent

from graftwork.core.base.jobs import Cancelled, StageResult
from graftwork.tui.widgets.histogram import Histogram
from tests.tui.helpers import main_screen, settle, until


async def test_changing_the_limit_updates_the_preview_at_once(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.budget_pane
        assert pane.current_preview().over == 1  # huge (6,200 > 4,095)
        await pilot.press("3")
        limit = pane.query_one("#budget-limit", Input)
        assert pane.query_one(Histogram).has_focus  # digits still switch panes here
        await pilot.press("l")
        assert limit.has_focus
        limit.value = ""
        await pilot.press(*"1000")
        assert pane.limit == 1000
        await pilot.press("enter")
        assert pane.query_one(Histogram).has_focus
        await pilot.press("4")
        assert screen.query_one(TabbedContent).active == "runs"
        p = pane.current_preview()
        # kept: markup 900, gone 800 and the selected clock (recounted live by the fake
        # counter, a few dozen tokens); over: huge 6,200; weather (1,500) needs work, which
        # build leaves out whatever the limit: counted with curation, as build does
        assert (p.keep, p.over) == (3, 1)
        shown = str(pane.query_one("#budget-preview").render())
        assert "keep 3" in shown
        assert "preview only: build uses 4,095" in shown  # the field never changes the build
        assert pane.query_one(Histogram).limit == 1000


async def test_budget_pane_draws_live_counts_when_shown(make_app) -> None:
    """Typing recounts the example on every key; the hidden Budget pane draws the new count
    when it is shown (it does not redraw every row per keystroke while hidden)."""
    from graftwork.tui.widgets.histogram import Histogram

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await until(pilot, lambda: screen.prompt_pane.gauge.total is not None)
        before = screen.rows["clock"].tokens
        await pilot.press("2", *" with seconds and a date")
        await until(pilot, lambda: screen.rows["clock"].tokens == (before or 0) + 5)
        await pilot.press("f4")  # digits type into the editor
        await settle(pilot)
        assert screen.rows["clock"].tokens in screen.query_one(Histogram).totals
        assert "keep" in str(screen.query_one("#budget-preview").render())


async def test_runs_pane_lists_jobs_and_shows_stored_log(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("4")
        table = screen.query_one("#runs-table", DataTable)
        assert table.row_count == 3
        assert [str(c) for c in table.get_row("job-build001")][2:4] == ["failed", "0/0"]
        assert str(table.get_row("job-ingest01")[5]) == "4.5s"
        await pilot.press("down")  # budget job
        await settle(pilot)
        log = screen.query_one("#runs-log", RichLog)
        text = "".join(line.text for line in log.lines)  # joined: the log wraps long lines
        assert "gone:downloadfoldermissing" in "".join(text.split())


async def test_stage_streams_log_and_can_be_cancelled(make_app) -> None:
    started = threading.Event()

    def slow_analyze(*, job):
        # Runs until cancelled (up to 100 s): it must still be running when the test's
        # cancel arrives, however slowly a loaded machine drives the pilot there.
        job.set_total(1000)
        job.log("first line")
        started.set()
        for _ in range(1000):
            job.check_cancelled()
            job.advance()
            threading.Event().wait(0.1)
        return StageResult(ok=1000)

    app = make_app(analyze=slow_analyze)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("4", "a")
        await until(pilot, lambda: started.is_set() and screen.cancels)
        job_id = next(iter(screen.cancels))
        await until(pilot, lambda: job_id in screen.runs_pane.jobs)
        # the pane follows the job just started: its live log is the one shown
        await until(pilot, lambda: screen.runs_pane.selected_id == job_id)
        log = "\n".join(line.text for line in screen.query_one("#runs-log").lines)
        assert "first line" in log and "--:--:--" not in log
        assert screen.query_one("#runs-table", DataTable).has_focus
        await pilot.press("c")  # asks first
        await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmModal")
        await pilot.press("y")
        await until(pilot, lambda: screen.runs_pane.jobs[job_id].state == "cancelled")
        await settle(pilot)
        assert not screen.cancels
    db = app.ws.catalog()
    assert db["jobs"].get(job_id)["state"] == "cancelled"
    assert [
        r["message"] for r in db.query("select message from job_logs where job_id = ?", [job_id])
    ] == ["first line"]
    _ = Cancelled  # the stage raised it; the app turned it into a cancelled job, not a crash


async def test_failing_stage_is_a_notification_not_a_crash(make_app) -> None:
    def broken(*, job):
        job.log("about to fail")
        raise RuntimeError("disk on fire")

    app = make_app(analyze=broken)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("4", "a")
        await until(pilot, lambda: any("disk on fire" in n.message for n in app._notifications))
        await settle(pilot)
        assert app.is_running
        job = next(j for j in screen.runs_pane.jobs.values() if j.kind == "analyze")
        assert job.state == "failed"


def _palette_highlight(app) -> str:
    """The command palette's highlighted hit ("" while it is not open or has none yet)."""
    from textual.command import CommandList, CommandPalette

    if not isinstance(app.screen, CommandPalette):
        return ""
    hits = app.screen.query_one(CommandList)
    if hits.highlighted is None:
        return ""
    return str(hits.get_option_at_index(hits.highlighted).prompt)


async def test_build_from_the_palette_finishes_and_writes_files(make_app, fixture_ws) -> None:
    """Uses the build area's real stage (graftwork.wiring.build) and real tokenizer."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("ctrl+p", *"runs: build a set")
        # The palette searches in a worker: enter picks the command once it is highlighted
        # (pressed before the hits arrive, it would only highlight the first one).
        await until(pilot, lambda: "build a set" in _palette_highlight(app))
        await pilot.press("enter")
        await until(pilot, lambda: app.screen.__class__.__name__ == "FormModal")
        await pilot.press("enter")  # the name field starts with a real default: v1
        await until(
            pilot,
            lambda: any(
                j.kind == "build" and j.state != "running"
                for j in screen.runs_pane.jobs.values()
                if j.id != "job-build001"
            ),
            timeout=60,
        )
        await settle(pilot)
        job = next(
            j
            for j in screen.runs_pane.jobs.values()
            if j.kind == "build" and j.id != "job-build001"
        )
        assert job.state in ("done", "partial")  # "gone" has no folder: one item fails
        # the build's log is not empty: its last line says how it ended and what it built
        log = screen.query_one("#runs-log", RichLog)

        def text() -> str:  # joined without spaces: the log wraps long lines
            return "".join("".join(line.text for line in log.lines).split())

        await pilot.press("4")
        await until(pilot, lambda: "setv1" in text())
        assert screen.runs_pane.selected_id == job.id
        assert f"{job.state}:" in text() and "countstrain" in text()
    out = fixture_ws.datasets_dir / "v1"
    for name in ("train.jsonl", "valid.jsonl", "test.jsonl", "manifest.json"):
        assert (out / name).is_file()
    assert (out / "train.jsonl").read_text(encoding="utf-8").strip()


async def test_train_job_embeds_the_training_run_view(make_app, fixture_ws) -> None:
    """Extension point: the training area's TrainingRunView replaces the log for train jobs."""
    db = fixture_ws.catalog()
    db["jobs"].insert(
        {
            "id": "job-train001",
            "kind": "train",
            "state": "done",
            "params": "{}",
            "total": 10,
            "done": 10,
            "failed": 0,
            "started_at": "2026-11-20T11:00:00.000+00:00",
            "ended_at": "2026-11-20T11:01:00.000+00:00",
            "summary": "{}",
        }
    )
    db.close()
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("4")
        await until(pilot, lambda: screen.runs_pane.selected_id == "job-train001")
        await settle(pilot)
        from graftwork.tui.training.run_view import TrainingRunView

        assert len(screen.query(TrainingRunView)) == 1
        await pilot.press("down")
        await settle(pilot)
        assert len(screen.query(TrainingRunView)) == 0
        assert app.is_running


async def test_jobs_from_another_process_appear_with_their_log(make_app, fixture_ws) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("4")
        # a CLI in another terminal starts a job (its own connection, its own process)
        from graftwork.core.base.jobs import Job

        db = fixture_ws.catalog()
        job = Job(db, "budget", {"max_tokens": 4095})
        job.set_total(10)
        job.log("counted by the CLI")
        await until(pilot, lambda: job.id in screen.runs_pane.jobs)
        screen.query_one("#runs-table", DataTable).move_cursor(row=0)
        await until(pilot, lambda: screen.runs_pane.selected_id == job.id)
        log = screen.query_one("#runs-log", RichLog)
        await until(pilot, lambda: any("counted by the CLI" in line.text for line in log.lines))
        job.advance(10)
        job.finish()
        await until(pilot, lambda: screen.runs_pane.jobs[job.id].state == "done")
        db.close()


async def test_teacher_run_shows_the_estimate_and_asks_first(make_app) -> None:
    """The teacher is a stand-in here (its own tests run it against a local fake server)."""
    ran: list[str] = []

    def estimate() -> dict:
        return {
            "calls": 4,
            "model": "teacher-x",
            "items": 4,
            "input_tokens": 9000,
            "output_tokens_max": 4000,
            "cost_max": 0.0123,
            "dry_run": False,
        }

    def teach(*, job, **_) -> StageResult:
        ran.append(job.kind)
        return StageResult(ok=4)

    app = make_app(teach_estimate=estimate, teach=teach)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("4", "g")
        await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmModal")
        text = " ".join(str(w.render()) for w in app.screen.query("Static"))
        assert "4 calls" in text and "$0.0123" in text
        await pilot.press("n")
        await settle(pilot)
        assert ran == []
        await pilot.press("g")
        await until(pilot, lambda: app.screen.__class__.__name__ == "ConfirmModal")
        await pilot.press("y")
        await until(pilot, lambda: ran == ["teach"])
        await until(
            pilot,
            lambda: any(
                j.kind == "teach" and j.state == "done" for j in screen.runs_pane.jobs.values()
            ),
        )


async def test_draft_prompts_records_the_same_job_kind_as_the_cli(make_app, fixture_ws) -> None:
    """The workstation once recorded this job as `prompts`, the CLI as `prompts.draft`."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("4", "d")
        await until(
            pilot,
            lambda: any(
                j.kind == "prompts.draft" and j.state != "running"
                for j in screen.runs_pane.jobs.values()
            ),
        )
        await settle(pilot)
    db = fixture_ws.catalog()
    kinds = [r[0] for r in db.execute("select kind from jobs where kind like 'prompts%'")]
    db.close()
    assert kinds == ["prompts.draft"]
