"""Pane 2, Prompt: the selected widget's prompt in an editor. Edits are saved as revisions
after a short pause (and on leaving the item or quitting), the revision list shows a diff
against the editor and restores, and a gauge shows the complete example's tokens live.

Counting runs in an exclusive thread worker keyed by a generation number: a newer keystroke
supersedes an older count, so only the newest text's count is ever shown."""

from __future__ import annotations

import time
from typing import Any, ClassVar

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.message import Message
from textual.timer import Timer
from textual.widgets import OptionList, Static, TextArea
from textual.widgets.option_list import Option
from textual.worker import Worker

from graftwork.core.dataset.examples import Example
from graftwork.tui.data import Revision, load_revisions
from graftwork.tui.messages import PromptCounted
from graftwork.tui.widgets.line_editor import LineEditor
from graftwork.tui.widgets.revisions import diff_text, revision_label
from graftwork.tui.widgets.token_gauge import TokenGauge
from graftwork.tui.worker_errors import report_worker_error, user_message

AUTOSAVE_SECONDS = 0.8
MARK_MINE, MARK_SPLIT, MARK_THEIRS = "<<<<<<< mine", "=======", ">>>>>>> theirs"
ASSISTANT_CHARS = 20_000  # the start of a huge answer is enough beside the editor
COUNT_SETTLE_SECONDS = 0.03  # let a burst of keystrokes coalesce before tokenizing


class PromptEditor(LineEditor):
    """TextArea plus the document-wide keys every editor has (TextArea binds none of them)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+home", "document_edge(False, False)", "Start of text", show=False),
        Binding("ctrl+end", "document_edge(True, False)", "End of text", show=False),
        Binding("ctrl+shift+home", "document_edge(False, True)", "Select to start", show=False),
        Binding("ctrl+shift+end", "document_edge(True, True)", "Select to end", show=False),
    ]

    def action_document_edge(self, end: bool, select: bool) -> None:
        self.move_cursor(self.document.end if end else (0, 0), select=select)


class PromptPane(Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "save", "Save", id="prompt.save", tooltip="Save a revision now"),
        Binding(
            "ctrl+t",
            "template",
            "Template draft",
            id="prompt.template",
            tooltip="Insert the template draft from the analysis",
        ),
        Binding(
            "ctrl+r",
            "restore",
            "Restore",
            id="prompt.restore",
            tooltip="Restore the revision selected in the list",
        ),
        Binding(
            "ctrl+g",
            "teacher_draft",
            "Teacher draft",
            id="prompt.teacher_draft",
            tooltip="Ask the teacher for a draft, shown as a diff",
        ),
        Binding("ctrl+o", "accept_proposal", "Accept draft", id="prompt.accept_proposal"),
        Binding("ctrl+n", "reject_proposal", "Reject draft", id="prompt.reject_proposal"),
    ]

    class Saved(Message):
        def __init__(self, item_id: str) -> None:
            super().__init__()
            self.item_id = item_id

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.item_id: str | None = None
        self.item_name = ""
        self.saved_text = ""
        self.revisions: list[Revision] = []
        self.base_example: Example | None = None
        self.limit = 4095
        self.proposal: str | None = None
        self.proposal_draft: Any = None
        self._timer: Timer | None = None
        self._generation = 0
        self.base_rev = 0  # the revision the editor's text was loaded from (0: none)
        self.in_conflict = False  # a save met a newer revision; the user decides
        self.merging = False  # both texts are in the editor with markers

    def compose(self) -> ComposeResult:
        yield Static(Text("No widget selected", style="dim"), id="prompt-title")
        with Horizontal():
            with Vertical(id="prompt-left"):
                yield PromptEditor(id="prompt-editor", soft_wrap=True, show_line_numbers=False)
                yield TokenGauge(id="prompt-gauge")
            with Vertical(id="prompt-right"):
                yield Static(Text("Revisions", style="bold"), classes="section")
                yield OptionList(id="prompt-revisions")
                yield Static(Text("Diff", style="bold"), id="prompt-diff-title", classes="section")
                with VerticalScroll(id="prompt-diff-scroll"):
                    yield Static(id="prompt-diff")
                # The example's answer beside its prompt. Übersicht's is the widget code, which
                # pane 1's detail already shows highlighted: there the space stays the diff's.
                yield Static(
                    Text("Assistant turn", style="bold"),
                    id="prompt-assistant-title",
                    classes="section",
                )
                with VerticalScroll(id="prompt-assistant-scroll"):
                    yield Static(id="prompt-assistant")

    def on_mount(self) -> None:
        shown = getattr(self.app, "item_view", None) is not None
        self.query_one("#prompt-assistant-title").display = shown
        self.query_one("#prompt-assistant-scroll").display = shown

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        report_worker_error(self, event)

    @property
    def editor(self) -> TextArea:
        return self.query_one("#prompt-editor", TextArea)

    @property
    def gauge(self) -> TokenGauge:
        return self.query_one(TokenGauge)

    @property
    def widget_drafts(self) -> bool:
        """Whether the template and teacher drafts apply (the Übersicht recipe's prompts)."""
        return getattr(self.app, "item_view", None) is None

    @property
    def dirty(self) -> bool:
        return self.item_id is not None and self.editor.text != self.saved_text

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("template", "teacher_draft") and not self.widget_drafts:
            return False  # both write a widget's prompt: other recipes draft in their stages
        if action == "teacher_draft":
            return self.app.services.teacher_draft is not None
        if action in ("accept_proposal", "reject_proposal"):
            return self.proposal is not None
        return True

    # -- loading ---------------------------------------------------------------------------
    def load(
        self,
        item_id: str | None,
        name: str,
        revisions: list[Revision],
        example: Example | None,
        limit: int,
        problem: str = "",
    ) -> None:
        """Show an item (called by the screen after a worker loaded it)."""
        self.flush()
        self.item_id, self.item_name, self.revisions = item_id, name, revisions
        self.base_example, self.limit, self.proposal = example, limit, None
        self.in_conflict = self.merging = False
        text = revisions[-1].text if revisions else ""
        self.saved_text = text
        self.base_rev = revisions[-1].rev if revisions else 0
        self.editor.load_text(text)
        self.editor.move_cursor(self.editor.document.end)  # typing continues the prompt
        self.editor.disabled = item_id is None
        self._title()
        self._fill_revisions()
        self._show_assistant(example)
        self.gauge.limit = limit
        self.gauge.total = None
        self.gauge.note = problem
        if item_id is not None and example is not None:
            self._request_count()
        self.refresh_bindings()

    def _show_assistant(self, example: Example | None) -> None:
        if example is None:
            body = Text("no example for this item yet", style="dim")
        else:
            answer = example.assistant
            calls = [c for m in example.messages[-1:] for c in m.get("tool_calls") or []]
            if calls:
                import json

                answer += ("\n\n" if answer else "") + json.dumps(
                    calls, ensure_ascii=False, indent=2
                )
            if len(answer) > ASSISTANT_CHARS:
                answer = answer[:ASSISTANT_CHARS] + f"\n… ({len(answer) - ASSISTANT_CHARS:,} more)"
            body = Text(answer) if answer else Text("(empty)", style="dim")
        self.query_one("#prompt-assistant", Static).update(body)

    def _title(self) -> None:
        title = Text()
        if self.item_id is None:
            noun = "item" if getattr(self.app, "item_view", None) is not None else "widget"
            title.append(f"No {noun} selected", style="dim")
        else:
            title.append(self.item_name or self.item_id, style="bold")
            title.append(f"  ({self.item_id})  ", style="dim")
            latest = self.revisions[-1].rev if self.revisions else 0
            if not latest:
                title.append("no prompt yet", style="dim")
            elif self.in_conflict or self.merging:
                title.append(
                    f"r{latest} · conflict: "
                    + ("merging by hand" if self.merging else "not saved"),
                    style="bold red",
                )
            elif self.dirty and self.base_rev != latest:
                title.append(
                    f"editing from r{self.base_rev} · r{latest} was saved meanwhile",
                    style="bold yellow",
                )
            else:
                title.append(f"r{latest}", style="dim")
                if self.dirty:
                    title.append(" · edited", style="dim")
        self.query_one("#prompt-title", Static).update(title)

    def external_revisions(self, item_id: str, revisions: list[Revision]) -> None:
        """Revisions read after a catalog change (this window's saves or any other process).
        An untouched editor follows the newest text; an edit in progress is kept, and the
        header says that a newer revision exists (saving then asks what to keep)."""
        if item_id != self.item_id or [r.rev for r in revisions] == [r.rev for r in self.revisions]:
            return
        self.revisions = revisions
        self._fill_revisions()
        latest = revisions[-1] if revisions else None
        if latest is not None and not self.dirty and self._timer is None:
            if latest.text != self.editor.text:
                cursor = self.editor.cursor_location
                self.editor.load_text(latest.text)
                self.editor.move_cursor(cursor)  # clamped to the new text
                self._request_count()
            self.saved_text, self.base_rev = latest.text, latest.rev
        self._title()

    def _fill_revisions(self) -> None:
        options = self.query_one("#prompt-revisions", OptionList)
        options.clear_options()
        options.add_options(
            [Option(revision_label(r), id=str(r.rev)) for r in reversed(self.revisions)]
        )
        self.query_one("#prompt-diff", Static).update(
            Text("select a revision to compare", style="dim")
        )

    # -- editing ---------------------------------------------------------------------------
    @on(TextArea.Changed, "#prompt-editor")
    def _changed(self) -> None:
        if self.item_id is None or (self.editor.text == self.saved_text and self._timer is None):
            return  # a load, not an edit
        if self._timer is not None:
            self._timer.stop()
        self._timer = self.set_timer(AUTOSAVE_SECONDS, self.flush)
        self._request_count()

    def _request_count(self) -> None:
        if self.item_id is None or self.base_example is None:
            return
        self._generation += 1
        example = self.base_example.with_user(self.editor.text.strip())
        self._count(self.item_id, example, self._generation)

    @work(thread=True, exclusive=True, group="gauge", exit_on_error=False, name="counting tokens")
    def _count(self, item_id: str, example: Example, generation: int) -> None:
        time.sleep(COUNT_SETTLE_SECONDS)
        if generation != self._generation:
            return  # a newer keystroke is already queued
        try:
            counter = self.app.services.token_counter()
            result = counter.count(example)
        except Exception as exc:  # shown in the gauge, not as one notification per keystroke
            self.app.call_from_thread(
                self._count_failed, generation, user_message(exc, "cannot count")
            )
            return
        if generation != self._generation:
            return
        parts = {k: int(v) for k, v in dict(result.parts).items()}
        exact = bool(getattr(counter, "exact", True))  # tiktoken stands in: approximate
        self.app.call_from_thread(
            self._counted, item_id, int(result.total), parts, generation, exact
        )

    def _counted(
        self, item_id: str, total: int, parts: dict[str, int], generation: int, exact: bool = True
    ) -> None:
        if generation != self._generation or item_id != self.item_id:
            return
        self.gauge.approximate = not exact
        self.gauge.total = total
        self.gauge.note = ""
        self.post_message(PromptCounted(item_id, total, parts))

    def _count_failed(self, generation: int, message: str) -> None:
        if generation == self._generation:
            self.gauge.total = None
            self.gauge.note = message

    def flush(self) -> None:
        """Save the editor as a new revision if it changed (debounce end, item switch, quit)."""
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.dirty and self.item_id is not None:
            if not self.editor.text.strip():
                self.gauge.note = "an empty prompt is not saved"
                return
            if self.merging:
                if any(m in self.editor.text for m in (MARK_MINE, MARK_SPLIT, MARK_THEIRS)):
                    self.gauge.note = "merge: remove the <<<<<<< ======= >>>>>>> lines, then ctrl+s"
                    return
                self.merging = False
            # saved_text moves only once the revision is stored (see _saved): a failed save
            # leaves the editor dirty, so the next pause or quit tries again.
            self._save(self.item_id, self.editor.text, None)

    @work(thread=True, group="prompt-save", exit_on_error=False, name="saving the prompt")
    def _save(
        self,
        item_id: str,
        text: str,
        note: str | None,
        origin: str = "tui",
        base_rev: int | None = None,
    ) -> None:
        """Store ``text`` as edited from ``base_rev`` (default: the editor's base); a newer
        revision with other text meanwhile is a conflict, shown instead of overwriting it."""
        from graftwork.core.prompts.prompts import RevisionConflict

        base = self.base_rev if base_rev is None else base_rev
        with self.app.ws.catalog() as db:
            try:
                stored = self.app.services.add_revision(
                    db, item_id, text, origin=origin, note=note, base_rev=base
                )
            except RevisionConflict as exc:
                self.app.call_from_thread(self._conflict, item_id, base, exc.theirs, text)
                return
            revisions = load_revisions(db, item_id)
        rev = stored.get("rev") if isinstance(stored, dict) else None
        self.app.call_from_thread(self._saved, item_id, revisions, text, rev)

    # -- conflicts -------------------------------------------------------------------------
    def _conflict(self, item_id: str, base: int, theirs: dict[str, Any], mine: str) -> None:
        from graftwork.tui.screens.modals import ConflictModal

        if item_id != self.item_id:  # left the item meanwhile: its edit is not lost, say so
            self.notify(
                f"{item_id}: not saved, r{theirs['rev']} was saved since r{base}; open it to decide",
                severity="warning",
                markup=False,
                timeout=10,
            )
            return
        self.in_conflict = True
        self._title()
        title = (
            f"{item_id}: r{theirs['rev']} ({theirs['origin']}) was saved after r{base}, "
            "which you were editing"
        )

        def decided(answer: str | None) -> None:
            self.resolve_conflict(item_id, answer, theirs, mine)

        self.app.push_screen(
            ConflictModal(
                title,
                Text(theirs["text"]),
                Text(mine),
                diff_text(theirs["text"], mine, f"r{theirs['rev']}", "mine"),
            ),
            decided,
        )

    def resolve_conflict(
        self, item_id: str, answer: str | None, theirs: dict[str, Any], mine: str
    ) -> None:
        if item_id != self.item_id or answer is None:
            return  # decide later: the editor keeps mine, the next save asks again
        self.in_conflict = False
        if answer == "mine":
            self._save(
                item_id,
                self.editor.text,
                f"kept over r{theirs['rev']}",
                base_rev=int(theirs["rev"]),
            )
        elif answer == "theirs":
            self.editor.load_text(theirs["text"])
            self.editor.move_cursor(self.editor.document.end)
            self.saved_text, self.base_rev = theirs["text"], int(theirs["rev"])
            self._request_count()
        else:  # merge by hand: both texts with markers; saving waits until they are gone
            self.merging = True
            self.base_rev = int(theirs["rev"])
            self.editor.load_text(
                f"{MARK_MINE}\n{self.editor.text}\n{MARK_SPLIT}\n{theirs['text']}\n"
                f"{MARK_THEIRS} r{theirs['rev']}"
            )
            self.editor.focus()
        self._title()

    def _saved(
        self,
        item_id: str,
        revisions: list[Revision],
        text: str | None = None,
        rev: int | None = None,
    ) -> None:
        if item_id == self.item_id:
            if text is not None:
                self.saved_text = text
            self.revisions = revisions
            if revisions:
                self.base_rev = rev if rev is not None else revisions[-1].rev
            self._fill_revisions()
            self._title()
        if rev is not None:
            self.notify(f"{item_id}: saved r{rev}", markup=False, timeout=2)
        self.post_message(self.Saved(item_id))

    # -- revisions -------------------------------------------------------------------------
    def _selected_revision(self) -> Revision | None:
        options = self.query_one("#prompt-revisions", OptionList)
        if options.highlighted is None:
            return None
        rev_id = options.get_option_at_index(options.highlighted).id
        return next((r for r in self.revisions if str(r.rev) == rev_id), None)

    @on(OptionList.OptionHighlighted, "#prompt-revisions")
    def _show_diff(self) -> None:
        rev = self._selected_revision()
        if rev is None or self.proposal is not None:
            return
        self.query_one("#prompt-diff-title", Static).update(
            Text(f"Diff r{rev.rev} → editor", style="bold")
        )
        self.query_one("#prompt-diff", Static).update(
            diff_text(rev.text, self.editor.text, f"r{rev.rev}", "editor")
        )

    def action_save(self) -> None:
        """Save now; with nothing changed, say so (ctrl+s never passes without a word)."""
        if self.item_id is not None and not self.dirty:
            latest = self.revisions[-1].rev if self.revisions else 0
            what = f"r{latest} is current" if latest else "no prompt yet"
            self.notify(f"{self.item_id}: nothing to save, {what}", markup=False, timeout=2)
            return
        self.flush()

    def action_restore(self) -> None:
        rev = self._selected_revision()
        if rev is None or self.item_id is None:
            self.notify("Select a revision in the list first", severity="warning")
            return
        self.editor.load_text(rev.text)  # fires Changed: counted and saved like an edit
        self.saved_text = rev.text
        self._save(self.item_id, rev.text, f"restored r{rev.rev}")
        self._request_count()

    def action_template(self) -> None:
        if self.item_id is not None and self.widget_drafts:
            self._template(self.item_id)

    @work(thread=True, group="prompt-template", exit_on_error=False, name="template draft")
    def _template(self, item_id: str) -> None:
        with self.app.ws.catalog() as db:
            draft = self.app.services.template_draft(db, item_id)
        self.app.call_from_thread(self._insert, item_id, draft)

    def _insert(self, item_id: str, text: str) -> None:
        if item_id != self.item_id:
            return
        if self.editor.text.strip():
            self.editor.insert(text)
        else:
            self.editor.load_text(text)
        self.editor.focus()

    # -- teacher draft -------------------------------------------------------------------
    def action_teacher_draft(self) -> None:
        if (
            self.item_id is not None
            and self.widget_drafts
            and self.app.services.teacher_draft is not None
        ):
            self.notify("Asking the teacher…")
            self._teacher(self.item_id)

    @work(thread=True, group="teacher", exit_on_error=False, name="teacher draft")
    def _teacher(self, item_id: str) -> None:
        draft = self.app.services.teacher_draft(item_id)
        self.app.call_from_thread(self._show_proposal, item_id, draft)

    def _show_proposal(self, item_id: str, draft: Any) -> None:
        if item_id != self.item_id:
            return
        proposal = draft.get("text", "") if isinstance(draft, dict) else str(draft)
        self.proposal, self.proposal_draft = proposal, draft
        self.query_one("#prompt-diff-title", Static).update(
            Text("Teacher draft (ctrl+o accept, ctrl+n reject)", style="bold magenta")
        )
        self.query_one("#prompt-diff", Static).update(
            diff_text(self.editor.text, proposal, "current", "teacher")
        )
        self.refresh_bindings()

    def action_accept_proposal(self) -> None:
        if self.proposal is None or self.item_id is None:
            return
        text, draft, self.proposal = self.proposal, self.proposal_draft, None
        self.flush()
        self.editor.load_text(text)
        self.saved_text = text
        if self.app.services.accept_teacher_draft is not None and isinstance(draft, dict):
            self._accept(self.item_id, draft)
        else:
            self._save(self.item_id, text, "teacher draft accepted", origin="teacher")
        self._request_count()
        self.refresh_bindings()

    @work(thread=True, group="prompt-save", exit_on_error=False, name="saving the prompt")
    def _accept(self, item_id: str, draft: dict[str, Any]) -> None:
        self.app.services.accept_teacher_draft(item_id, draft)  # stores the revision itself
        with self.app.ws.catalog() as db:
            revisions = load_revisions(db, item_id)
        self.app.call_from_thread(self._saved, item_id, revisions)

    def action_reject_proposal(self) -> None:
        self.proposal = None
        self._show_diff()
        self.refresh_bindings()
