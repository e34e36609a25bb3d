"""Pane 3, Budget: histogram of total tokens with the limit line, keep/exclude counts, the
selected example's stacked bar, and a limit field whose changes update the preview at once."""

from __future__ import annotations

from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Input, Label, Static

from graftwork.tui.budget_model import Preview, preview
from graftwork.tui.data import WidgetRow, approximate_counts
from graftwork.tui.widgets.histogram import Histogram
from graftwork.tui.widgets.stacked_bar import StackedBar

APPROXIMATE_NOTE = (
    "\ncounts are approximate (tiktoken stands in for Apple's tokenizer): "
    "graftwork doctor says how to make them exact"
)


def preview_text(p: Preview, project_limit: int | None = None, approximate: bool = False) -> Text:
    out = Text()
    out.append("strategy preview at ", style="dim")
    out.append(f"{p.limit:,}", style="bold")
    out.append(" tokens:  ", style="dim")
    out.append(f"keep {p.keep}", style="bold green")
    out.append("   ")
    out.append(f"exclude {p.excluded}", style="bold red")
    out.append(f" ({p.over} over the limit, {p.curated_out} by curation)", style="dim")
    if p.uncounted:
        out.append(f"   not counted {p.uncounted}", style="yellow")
    if project_limit is not None and p.limit != project_limit:
        # the field only previews: build and train use the project's limit
        out.append(
            f"\npreview only: build uses {project_limit:,} (project.max_sequence_length "
            "in graftwork.yaml)",
            style="bold yellow",
        )
    if approximate:
        out.append(APPROXIMATE_NOTE, style="yellow")
    return out


class BudgetPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("l", "edit_limit", "Limit", id="budget.limit", tooltip="Change the token limit"),
        Binding(
            "escape",
            "leave_limit",
            "Done",
            show=False,
            id="budget.limit_done",
            tooltip="Leave the limit field",
        ),
    ]

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.rows: list[WidgetRow] = []
        self.limit = 4095
        self.project_limit = 4095  # what build uses; the field above may preview another
        self.selected: WidgetRow | None = None
        self._stale = False  # rows changed while the pane was hidden: redraw when shown

    def compose(self) -> ComposeResult:
        with Horizontal(id="budget-top"):
            yield Label("max_sequence_length ")
            yield Input(str(self.limit), id="budget-limit", type="integer", max_length=7)
            yield Static(id="budget-preview")
        # The pane's focus lands on the chart, not the number field: digits typed into the
        # field would otherwise swallow the 1-4 pane keys.
        hist = Histogram(id="budget-histogram")
        hist.can_focus = True
        yield hist
        yield StackedBar(id="budget-bar")

    def set_rows(self, rows: list[WidgetRow], limit: int | None = None) -> None:
        self.rows = rows
        if limit is not None:
            self.project_limit = limit
        if limit is not None and limit != self.limit:
            self.limit = limit
            self.query_one("#budget-limit", Input).value = str(limit)
        # Every keystroke in the editor recounts its example and lands here: the histogram
        # and preview go over every row, so a hidden pane only notes it and draws when shown.
        if self.is_on_screen:
            self._redraw()
        else:
            self._stale = True

    def catch_up(self) -> None:
        """The pane is shown (its tab activated): draw what changed while it was hidden."""
        if self._stale:
            self._stale = False
            self._redraw()

    def select(self, row: WidgetRow | None) -> None:
        self.selected = row
        bar = self.query_one(StackedBar)
        bar.title = f"{row.name or row.id} ({row.id})" if row else ""
        bar.parts = dict(row.parts) if row else {}

    def current_preview(self) -> Preview:
        return preview(self.rows, self.limit)

    def _redraw(self) -> None:
        hist = self.query_one(Histogram)
        hist.limit = self.limit
        hist.totals = [
            r.tokens for r in self.rows if r.tokens is not None and r.decision != "exclude"
        ]
        self.query_one(StackedBar).limit = self.limit
        self.query_one("#budget-preview", Static).update(
            preview_text(self.current_preview(), self.project_limit, approximate_counts(self.rows))
        )

    @on(Input.Changed, "#budget-limit")
    def _limit_changed(self, event: Input.Changed) -> None:
        try:
            value = int(event.value)
        except ValueError:
            return
        if value > 0 and value != self.limit:
            self.limit = value
            self._redraw()

    def action_edit_limit(self) -> None:
        self.query_one("#budget-limit", Input).focus()

    @on(Input.Submitted, "#budget-limit")
    def action_leave_limit(self) -> None:
        self.query_one(Histogram).focus()
