"""Pane 4, Runs: every job with state, progress, start time and duration; the selected job's
log (loaded from the catalog, then streamed live); cancel. A `train` job embeds the training
area's TrainingRunView."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import DataTable, RichLog, Static

from graftwork.core.base.catalog.db import now as now_iso
from graftwork.core.base.jobs import JobEvent
from graftwork.core.base.resume import resume_hint
from graftwork.tui.data import JobRow

STATE_STYLE = {
    "running": "bold cyan",
    "done": "green",
    "partial": "yellow",
    "failed": "red",
    "cancelled": "magenta",
    "interrupted": "magenta",  # its process was killed (found at the next open)
    "cancelling": "magenta",
}
LEVEL_STYLE = {"error": "red", "warning": "yellow", "debug": "dim"}


def _parse(ts: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(ts) if ts else None
    except ValueError:
        return None


def duration(start: str, end: str | None, now: datetime | None = None) -> str:
    a, b = _parse(start), _parse(end) or now
    if a is None or b is None:
        return "—"
    secs = max(0.0, (b - a).total_seconds())
    return f"{secs:.1f}s" if secs < 60 else f"{int(secs // 60)}m{int(secs % 60):02d}s"


def job_cells(job: JobRow, now: datetime | None = None) -> tuple[Text, ...]:
    total = "?" if job.total is None else str(job.total)
    progress = f"{job.done}/{total}" + (f" ({job.failed} failed)" if job.failed else "")
    start = _parse(job.started_at)
    return (
        Text(job.id),
        Text(job.kind),
        Text(
            "interrupted ↻" if job.state == "interrupted" else job.state,  # ↻: resumable
            STATE_STYLE.get(job.state, ""),
        ),
        Text(progress),
        Text(start.strftime("%m-%d %H:%M:%S") if start else "—"),
        Text(duration(job.started_at, job.ended_at, now), justify="right"),
    )


def interrupted_line(job: JobRow) -> str:
    """Why the job stopped and how to resume it (the reaper stores both in the job's error;
    rows reaped before hints were stored get theirs here)."""
    said = job.error or "interrupted: its process ended without finishing (killed?)"
    if "rerun" in said or "--resume" in said:
        return said
    return f"{said}; {resume_hint(job.kind, job.params)}"


def log_line(ts: str | None, level: str, message: str, item_id: str | None = None) -> Text:
    out = Text()
    stamp = _parse(ts)
    out.append((stamp.strftime("%H:%M:%S") if stamp else "--:--:--") + " ", style="dim")
    out.append(f"{level:<8}", style=LEVEL_STYLE.get(level, "cyan"))
    out.append(message)  # user data: plain text, never markup
    return out


def summary_line(job: JobRow) -> str:
    """The job's end in one line (its log's last line): state, counts and what the stage
    reported, e.g. "done: 34 done, 0 failed · set v1 · counts train 30, valid 4, test 0"."""
    parts = [f"{job.state}: {job.done} done, {job.failed} failed"]
    for key, value in job.summary.items():
        if isinstance(value, dict):
            inner = ", ".join(f"{k} {v}" for k, v in value.items())
            parts.append(f"{key} {inner}" if inner else key)
        elif isinstance(value, list):
            parts.append(f"{key} {len(value)}")
        elif value is not None and value != "":
            parts.append(f"{key} {value}")
    if job.error:
        parts.append(job.error)
    return " · ".join(parts)


class RunsPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("c", "cancel", "Cancel job", id="runs.cancel", tooltip="Cancel the selected job"),
        Binding("i", "screen.start('ingest')", "Ingest", id="runs.ingest"),
        Binding("a", "screen.start('analyze')", "Analyze", id="runs.analyze"),
        Binding("d", "screen.start('prompts.draft')", "Draft prompts", id="runs.draft_prompts"),
        Binding("b", "screen.start('budget')", "Budget", id="runs.budget"),
        Binding("m", "screen.start('build')", "Build set", id="runs.build"),
        Binding("e", "screen.start('export')", "Export", id="runs.export"),
        Binding(
            "t", "screen.train", "Train", id="runs.train", tooltip="Train a LoRA adapter on a set"
        ),
        Binding(
            "g",
            "screen.teach",
            "Teacher drafts",
            id="runs.teach",
            tooltip="Teacher drafts for widgets without a prompt (shows the cost first)",
        ),
        Binding(
            "k",
            "screen.teach_categories",
            "Teacher categories",
            id="runs.teach_categories",
            tooltip="A category per widget without one, as AI_category (shows the cost first)",
        ),
        Binding(
            "v",
            "screen.review",
            "Review",
            id="runs.review",
            tooltip="Review samples of the selected train job",
        ),
        Binding(
            "s",
            "screen.ship",
            "Ship",
            id="runs.ship",
            tooltip="Ship the selected job's run: mlx, gguf, ollama or fmadapter",
        ),
        Binding(
            "h",
            "screen.history",
            "Run history",
            id="runs.history",
            tooltip="Every training run; mark two to compare their loss curves",
        ),
    ]

    class CancelRequest(Message):
        def __init__(self, job_id: str) -> None:
            super().__init__()
            self.job_id = job_id

    class LogRequest(Message):
        """The screen loads the selected job's stored log in a worker."""

        def __init__(self, job_id: str) -> None:
            super().__init__()
            self.job_id = job_id

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.jobs: dict[str, JobRow] = {}
        self.order: list[str] = []
        self.selected_id: str | None = None
        self._pending: set[str] = set()

    def compose(self) -> ComposeResult:
        with Horizontal():
            table = DataTable(id="runs-table", cursor_type="row")
            for label in ("Job", "Kind", "State", "Progress", "Started", "Duration"):
                table.add_column(label, key=label)
            yield table
            with Vertical(id="runs-right"):
                yield Static(Text("Log", style="bold"), id="runs-log-title")
                yield RichLog(
                    id="runs-log",
                    markup=False,
                    highlight=False,
                    wrap=True,
                    max_lines=5000,
                    min_width=20,
                )

    def on_mount(self) -> None:
        self.set_interval(0.2, self._flush_pending)

    # -- data ------------------------------------------------------------------------------
    def set_jobs(self, jobs: list[JobRow]) -> None:
        self.jobs = {j.id: j for j in jobs}
        self.order = [j.id for j in jobs]
        table = self.query_one("#runs-table", DataTable)
        table.clear()
        for job in jobs:
            table.add_row(*job_cells(job), key=job.id)
        if self.order:
            target = self.order.index(self.selected_id) if self.selected_id in self.order else 0
            table.move_cursor(row=target, animate=False)

    def merge_jobs(self, jobs: list[JobRow]) -> None:
        """Fold in jobs read from the catalog (new ones rebuild the table, rare)."""
        if any(j.id not in self.jobs for j in jobs):
            for j in jobs:
                self.jobs[j.id] = j
            ordered = sorted(self.jobs.values(), key=lambda j: j.started_at, reverse=True)
            self.set_jobs(ordered)
            return
        for j in jobs:
            old = self.jobs[j.id]
            if (old.state, old.done, old.total, old.failed) != (j.state, j.done, j.total, j.failed):
                self.jobs[j.id] = j
                self._pending.add(j.id)

    def show_log(self, job_id: str, lines: list[dict[str, Any]], job: JobRow | None = None) -> None:
        """The stored log; a finished job's last line says how it ended (so no log is
        empty: a build that went well logs nothing on its own)."""
        if job_id != self.selected_id:
            return
        log = self.query_one("#runs-log", RichLog)
        log.clear()
        for row in lines:
            log.write(log_line(row["ts"], row["level"] or "info", row["message"] or ""))
        job = job or self.jobs.get(job_id)
        if job is not None and job.state == "interrupted":  # killed: say what to do next
            log.write(log_line(job.ended_at, "warning", interrupted_line(job)))
        elif job is not None and job.state not in ("running", "cancelling"):
            level = {"done": "info", "partial": "warning"}.get(job.state, "error")
            log.write(log_line(job.ended_at, level, summary_line(job)))

    def on_job_event(self, event: JobEvent) -> None:
        job = self.jobs.get(event.job_id)
        if job is None:
            job = JobRow(
                event.job_id, event.job_kind, "running", None, 0, 0, now_iso(), None, {}, None
            )
            self.jobs[job.id] = job
            self.order.insert(0, job.id)
            self._resort()
            if event.type == "started":  # follow the job just started: its log streams here
                self.select_job(job.id, focus=False)
        job.total, job.done, job.failed = event.total, event.done, event.failed
        if event.type == "finished":
            job.state, job.ended_at = event.state, now_iso()
        self._pending.add(job.id)
        if event.type == "log" and event.job_id == self.selected_id:
            self.query_one("#runs-log", RichLog).write(
                log_line(now_iso(), event.level, event.message, event.item_id)
            )
        if event.type == "finished" and event.job_id == self.selected_id:
            # read back from the catalog: every line with its stored time, and how it ended
            self.post_message(self.LogRequest(event.job_id))

    def _resort(self) -> None:
        # New jobs go on top: rebuild once (rare) rather than on every progress event.
        self.set_jobs([self.jobs[i] for i in self.order])

    def _flush_pending(self) -> None:
        """Progress arrives per item; repaint changed rows at most five times a second."""
        table = self.query_one("#runs-table", DataTable)
        now = datetime.now().astimezone()
        running = {j for j, row in self.jobs.items() if row.state == "running"}
        for job_id in self._pending | running:
            if job_id in self.jobs and job_id in self.order:
                cells = job_cells(self.jobs[job_id], now)
                for col, i in (("State", 2), ("Progress", 3), ("Duration", 5)):
                    table.update_cell(job_id, col, cells[i])
        self._pending.clear()

    # -- events ----------------------------------------------------------------------------
    @on(DataTable.RowHighlighted, "#runs-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        job_id = event.row_key.value if event.row_key else None
        if job_id is None or job_id == self.selected_id:
            return
        self.selected_id = job_id
        job = self.jobs[job_id]
        title = Text("Log of ", style="bold")
        title.append(f"{job.kind} {job.id}")
        self.query_one("#runs-log-title", Static).update(title)
        self._embed_training(job)
        self.query_one("#runs-log", RichLog).clear()
        self.post_message(self.LogRequest(job_id))

    def _embed_training(self, job: JobRow) -> None:
        """The training area's live view for `train` jobs."""
        for old in self.query(".training-view"):
            old.remove()
        log = self.query_one("#runs-log", RichLog)
        log.display = True
        if job.kind != "train":
            return
        from graftwork.tui.training.run_view import TrainingRunView  # plotext: only when needed

        view = TrainingRunView(self.app.ws, job.id)  # it finds the run this job trained
        view.add_class("training-view")
        self.query_one("#runs-right").mount(view, before=log)
        log.styles.height = 10

    def mark_cancelling(self, job_id: str) -> None:
        """Shown at once; the job's own end (cancelled) replaces it."""
        job = self.jobs.get(job_id)
        if job is not None and job.state == "running":
            job.state = "cancelling"
            self._pending.add(job_id)

    def select_job(self, job_id: str, focus: bool = True) -> bool:
        """Move the cursor to a job (its log and training view follow); False if not listed."""
        if job_id not in self.order:
            return False
        table = self.query_one("#runs-table", DataTable)
        table.move_cursor(row=self.order.index(job_id), animate=False)
        if focus:
            table.focus()
        return True

    def action_cancel(self) -> None:
        if self.selected_id is not None:
            self.post_message(self.CancelRequest(self.selected_id))
