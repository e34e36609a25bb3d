"""Review screen: for each sample of a run, the prompt, then reference, base and adapter
output side by side (syntax highlighted), with keyboard verdicts. When the run was evaluated
(`graftwork eval`), a line under the title shows its newest scores (base → adapter) and each
answer's column shows its checks (✓/✗ per recipe metric), the judge's verdict in the status.

Keys: a accept, r reject, x clear, 1-5 score, n note, j/k or down/up next/previous sample,
p promote accepted samples, s sample the run (when the app passes wiring.sample), e evaluate
the run (when the app passes the eval stage), w jump to the training examples of the sample's
widget, escape close. All catalog reads and writes run in thread workers with their own connection.

Jumping posts ReviewScreen.JumpToItem to the app and dismisses the screen with the item id,
so the app can select that widget in its Widgets pane (either way works)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from rich.syntax import Syntax
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.reactive import reactive
from textual.screen import ModalScreen, Screen
from textual.widgets import Footer, Input, Label, OptionList, Static
from textual.widgets.option_list import Option

from graftwork.core.base.workspace import Workspace
from graftwork.tui.worker_errors import user_message

VERDICT_MARK = {"accept": ("✔", "green"), "reject": ("✘", "red"), "none": ("·", "dim")}


def scores_line(run_id: str, scores: dict[str, dict[str, Any]]) -> Text:
    """The run's newest evaluation scores in one line: metric base → adapter (judge: pair)."""
    from graftwork.core.eval.report import fmt

    if not scores:
        return Text(f"No evaluation yet: graftwork eval --run {run_id}", style="dim")
    sources = sorted({v["source"] for v in scores.values()})
    line = Text.assemble(("Eval ", "bold"), f"{', '.join(sources)}: ")
    parts = []
    for metric, v in scores.items():
        if v.get("pair") is not None:
            if metric == "judge_score":
                parts.append(Text(f"judge {fmt(metric, v['pair'])}"))
            continue
        parts.append(
            Text(f"{metric} {fmt(metric, v.get('base'))} → {fmt(metric, v.get('adapter'))}")
        )
    return line + Text(" · ").join(parts)


def checks_text(values: dict[str, Any] | None) -> Text:
    """One answer's checks: ✓/✗ per metric that applies (loss-only recipes have none)."""
    text = Text()
    for metric, value in (values or {}).items():
        if isinstance(value, bool):
            text.append(f"{'✓' if value else '✗'} {metric}  ", style="green" if value else "red")
    return text


def _code(text: str | None) -> Syntax | Text:
    if not text:
        return Text("(empty)", style="dim italic")
    return Syntax(
        text,
        "jsx",
        theme="ansi_dark",
        word_wrap=True,
        line_numbers=False,
        background_color="default",
    )


class NoteModal(ModalScreen[str | None]):
    """One line of text; Enter saves, Escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="review.note.cancel")
    ]
    DEFAULT_CSS = """
    NoteModal { align: center middle; }
    NoteModal > Vertical { width: 70; height: auto; border: thick $accent; background: $surface; padding: 1 2; }
    """

    def __init__(self, note: str | None) -> None:
        super().__init__()
        self.note = note or ""

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label("Note on this sample (Enter saves, Escape cancels)")
            yield Input(self.note, id="note-input")

    @on(Input.Submitted)
    def _submit(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReviewScreen(Screen[str | None]):
    """Self-contained: give it a workspace and a run id (or its train job's id) and push it."""

    class JumpToItem(Message):
        """Show the training examples of this widget (select it in the Widgets pane)."""

        def __init__(self, item_id: str, run_id: str) -> None:
            super().__init__()
            self.item_id = item_id
            self.run_id = run_id

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("a", "verdict('accept')", "Accept", id="review.accept"),
        Binding("r", "verdict('reject')", "Reject", id="review.reject"),
        Binding("x", "verdict('none')", "Clear", id="review.clear", show=False),
        *[
            Binding(
                str(n),
                f"score({n})",
                "Score 1-5" if n == 1 else f"Score {n}",
                id=f"review.score{n}",
                show=n == 1,
            )
            for n in range(1, 6)
        ],
        Binding("n", "note", "Note", id="review.note"),
        Binding("j,down", "move(1)", "Next", id="review.next", show=False),
        Binding("k,up", "move(-1)", "Previous", id="review.previous", show=False),
        Binding("p", "promote", "Promote accepted", id="review.promote"),
        Binding("s", "sample", "Sample run", id="review.sample"),
        Binding("e", "evaluate", "Evaluate run", id="review.evaluate"),
        Binding("w", "jump", "Widget examples", id="review.jump"),
        Binding("escape", "close", "Close", id="review.close"),
    ]
    DEFAULT_CSS = """
    ReviewScreen #review-title { height: 1; padding: 0 1; background: $primary-background; }
    ReviewScreen #review-scores { height: auto; max-height: 2; padding: 0 1; }
    ReviewScreen .column-checks { height: auto; }
    ReviewScreen #review-body { height: 1fr; }
    ReviewScreen #sample-list { width: 28; height: 1fr; border-right: solid $primary; }
    ReviewScreen #review-main { width: 1fr; }
    ReviewScreen #review-prompt { height: auto; max-height: 5; padding: 0 1; border-bottom: solid $primary; }
    ReviewScreen #review-columns { height: 1fr; }
    ReviewScreen .column { width: 1fr; border: round $primary-darken-2; padding: 0 1; }
    ReviewScreen .column-title { text-style: bold; height: 1; }
    ReviewScreen #review-status { height: 2; padding: 0 1; background: $boost; }
    """

    index: reactive[int] = reactive(0)

    def __init__(
        self,
        ws: Workspace,
        run_id: str,
        sample: Callable[..., Any] | None = None,
        evaluate: Callable[..., Any] | None = None,
    ) -> None:
        """``sample``: (run_id) -> StageResult, the registry's `sample` stage run as a job
        (called from a worker thread); without it, `s` says how to sample from a terminal.
        ``evaluate``: the same for the `eval` stage (`e`)."""
        super().__init__()
        self.ws = ws
        self.run_id = run_id
        self.sampler = sample
        self.evaluator = evaluate
        self.sampling = False
        self.samples: list[dict[str, Any]] = []
        self.scores: dict[str, dict[str, Any]] = {}  # the run's newest eval scores
        self.checks: dict[int, dict[str, Any]] = {}  # sample id -> {model: metric values}
        self.message_line = Text()

    # -- layout ----------------------------------------------------------------------------
    def compose(self) -> ComposeResult:
        yield Static(Text(f"Review · run {self.run_id}", style="bold"), id="review-title")
        yield Static("", id="review-scores")
        with Horizontal(id="review-body"):
            yield OptionList(id="sample-list")
            with Vertical(id="review-main"):
                yield Static("Loading samples…", id="review-prompt")
                with Horizontal(id="review-columns"):
                    for key, title in (
                        ("reference", "Reference"),
                        ("base", "Base"),
                        ("adapter", "Adapter"),
                    ):
                        with VerticalScroll(classes="column", id=f"col-{key}"):
                            yield Static(title, classes="column-title", id=f"title-{key}")
                            if key != "reference":
                                yield Static("", classes="column-checks", id=f"checks-{key}")
                            yield Static("", id=f"code-{key}")
                yield Static("", id="review-status")
        yield Footer()

    def on_mount(self) -> None:
        self.load_samples()

    # -- data (thread workers, own connection each) ------------------------------------------
    @work(thread=True, exclusive=True, group="review-load", name="loading the review")
    def load_samples(self) -> None:
        from graftwork.core.eval.store import latest_scores, run_sample_metrics
        from graftwork.core.review.samples import list_samples
        from graftwork.tui.training.data import run_or_job

        scores: dict[str, Any] = {}
        checks: dict[int, Any] = {}
        with self.ws.catalog() as db:
            try:
                run_id = run_or_job(db, self.run_id)["id"]
                rows = list_samples(db, run_id)
                scores, checks = latest_scores(db, run_id), run_sample_metrics(db, run_id)
                error = None
            except Exception as exc:  # shown on the screen, never a crash
                run_id, rows, error = self.run_id, [], user_message(exc)
        self.app.call_from_thread(self._loaded, run_id, rows, error, scores, checks)

    def _loaded(
        self,
        run_id: str,
        rows: list[dict[str, Any]],
        error: str | None,
        scores: dict[str, Any] | None = None,
        checks: dict[int, Any] | None = None,
    ) -> None:
        self.run_id = run_id
        self.samples = rows
        self.scores, self.checks = scores or {}, checks or {}
        self.query_one("#review-scores", Static).update(scores_line(run_id, self.scores))
        self.query_one("#review-title", Static).update(
            Text(f"Review · run {run_id} · {len(rows)} sample(s)", style="bold")
        )
        if error or not rows:
            how = (
                "press s to sample base and adapter"
                if self.sampler
                else f"run `graftwork sample --run {run_id}`"
            )
            msg = error or f"No samples yet: {how}."
            self.query_one("#review-prompt", Static).update(Text(msg, style="yellow"))
            return
        self._refresh_list()
        self.index = min(self.index, len(rows) - 1)
        self._show()

    @work(thread=True, group="review-write", name="saving the review")
    def _write(self, sample_id: int, fields: dict[str, Any]) -> None:
        from graftwork.core.review.review import set_verdict

        with self.ws.catalog() as db:
            try:
                row = set_verdict(
                    db, sample_id, fields.get("verdict"), fields.get("score"), fields.get("note")
                )
                error = None
            except Exception as exc:
                row, error = None, user_message(exc)
        self.app.call_from_thread(self._written, sample_id, row, error)

    def _written(self, sample_id: int, row: dict[str, Any] | None, error: str | None) -> None:
        if error or row is None:
            self._status(error or "not saved", "red")
            return
        for sample in self.samples:
            if sample["id"] == sample_id:
                sample.update(verdict=row["verdict"], score=row["score"], note=row["note"])
        self._refresh_list()
        self._show()
        self._status(
            f"sample {sample_id}: {row['verdict']}"
            + (f", score {row['score']}" if row["score"] else ""),
            "green",
        )

    @work(thread=True, exclusive=True, group="review-promote", name="promoting samples")
    def _promote(self) -> None:
        from graftwork.core.review.review import promote_run

        with self.ws.catalog() as db:
            try:
                rows, error = promote_run(self.ws, db, self.run_id), None
            except Exception as exc:
                rows, error = [], user_message(exc)
        self.app.call_from_thread(self._promoted, rows, error)

    def _promoted(self, rows: list[dict[str, Any]], error: str | None) -> None:
        if error:
            self._status(f"promotion failed: {error}", "red")
            return
        done = {r["sample_id"] for r in rows}
        for sample in self.samples:
            if sample["id"] in done:
                sample["promoted"] = 1
        self._show()
        self._status(
            f"promoted {len(rows)} sample(s) into the catalog as generated examples", "green"
        )

    @work(thread=True, exclusive=True, group="review-sample", name="sampling")
    def _sample(self) -> None:
        try:
            result = self.sampler(self.run_id)  # type: ignore[misc]
            message, style = f"stored {result.ok} new sample(s)", "green"
        except Exception as exc:
            message, style = user_message(exc, "sampling failed"), "red"
        self.app.call_from_thread(self._sampled, message, style)

    @work(thread=True, exclusive=True, group="review-sample", name="evaluating the run")
    def _evaluate(self) -> None:
        from graftwork.core.eval.report import fmt

        try:
            result = self.evaluator(self.run_id)  # type: ignore[misc]
            ppl = result.summary["scores"].get("perplexity", {})
            message = f"evaluated {result.summary['examples']} example(s)" + (
                f": perplexity {fmt('perplexity', ppl.get('base'))} → "
                f"{fmt('perplexity', ppl.get('adapter'))}"
                if ppl
                else ""
            )
            style = "green"
        except Exception as exc:
            message, style = f"evaluation failed: {exc}", "red"
        self.app.call_from_thread(self._sampled, message, style)

    def _sampled(self, message: str, style: str) -> None:
        self.sampling = False
        self._status(message, style)
        self.load_samples()

    # -- view -------------------------------------------------------------------------------
    @property
    def current(self) -> dict[str, Any] | None:
        return self.samples[self.index] if 0 <= self.index < len(self.samples) else None

    def _refresh_list(self) -> None:
        options = self.query_one("#sample-list", OptionList)
        options.clear_options()
        for s in self.samples:
            mark, style = VERDICT_MARK.get(s["verdict"], VERDICT_MARK["none"])
            label = Text.assemble(
                (f"{mark} ", style),
                f"{s['id']} {s['item_id']}",
                (f" {s['score']}★" if s["score"] else "", "yellow"),
            )
            options.add_option(Option(label, id=str(s["id"])))
        if self.samples:
            options.highlighted = self.index

    def _show(self) -> None:
        s = self.current
        if s is None:
            return
        self.query_one("#review-prompt", Static).update(
            Text.assemble(("Prompt: ", "bold"), s["prompt"] or "")
        )
        self.query_one("#code-reference", Static).update(_code(s["reference"]))
        self.query_one("#code-base", Static).update(_code(s["base_output"]))
        self.query_one("#code-adapter", Static).update(_code(s["adapter_output"]))
        self.query_one("#title-base", Static).update(f"Base ({(s['base_ms'] or 0):.0f} ms)")
        self.query_one("#title-adapter", Static).update(
            f"Adapter ({(s['adapter_ms'] or 0):.0f} ms)"
        )
        checks = self.checks.get(s["id"], {})
        for which in ("base", "adapter"):
            self.query_one(f"#checks-{which}", Static).update(checks_text(checks.get(which)))
        judged = checks.get("pair", {}).get("judge_score")
        mark, style = VERDICT_MARK.get(s["verdict"], VERDICT_MARK["none"])
        line = Text.assemble(
            (f"judge: adapter {100 * judged:.0f}%  " if judged is not None else "", "magenta"),
            (f"{mark} {s['verdict']}", style),
            f"  score {s['score'] or '-'}/5",
            ("  promoted" if s.get("promoted") else "", "cyan"),
            f"  note: {s['note'] or '-'}",
            f"  ·  {s['item_id']} ({s['split']}) seed {s['seed']} temp {s['temperature']:g} · {self.index + 1}/{len(self.samples)}",
        )
        if self.message_line:
            line.append("\n")
            line.append_text(self.message_line)
        self.query_one("#review-status", Static).update(line)

    def _status(self, message: str, style: str = "") -> None:
        self.message_line = Text(message, style=style)
        self._show()
        if not self.samples:
            self.query_one("#review-status", Static).update(Text(message, style=style))

    def watch_index(self, index: int) -> None:
        if self.samples and self.is_mounted:
            self.query_one("#sample-list", OptionList).highlighted = index
            self._show()

    @on(OptionList.OptionHighlighted, "#sample-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.index:
            self.index = event.option_index

    # -- actions ----------------------------------------------------------------------------
    def action_verdict(self, verdict: str) -> None:
        if self.current is not None:
            self._write(self.current["id"], {"verdict": verdict})

    def action_score(self, score: int) -> None:
        if self.current is not None:
            self._write(self.current["id"], {"score": int(score)})

    def action_note(self) -> None:
        sample = self.current
        if sample is None:
            return

        def save(note: str | None) -> None:
            if note is not None:
                self._write(sample["id"], {"note": note})

        self.app.push_screen(NoteModal(sample["note"]), save)

    def action_move(self, step: int) -> None:
        if self.samples:
            self.index = max(0, min(len(self.samples) - 1, self.index + step))

    def action_sample(self) -> None:
        if self.sampler is None:
            self._status(f"sample from a terminal: graftwork sample --run {self.run_id}", "yellow")
            return
        if not self.sampling:
            self.sampling = True
            self._status("sampling base and adapter (test split)…", "yellow")
            self._sample()

    def action_evaluate(self) -> None:
        if self.evaluator is None:
            self._status(f"evaluate from a terminal: graftwork eval --run {self.run_id}", "yellow")
            return
        if not self.sampling:
            self.sampling = True
            self._status("evaluating base and adapter on the test split…", "yellow")
            self._evaluate()

    def action_promote(self) -> None:
        self._promote()

    def action_jump(self) -> None:
        if self.current is not None:
            item_id = self.current["item_id"]
            self.app.post_message(self.JumpToItem(item_id, self.run_id))
            self.dismiss(item_id)

    def action_close(self) -> None:
        self.dismiss(None)
