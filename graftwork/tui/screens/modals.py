"""Small forms that return typed results (ModalScreen[T]): ingest, build, export, note."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Checkbox, Input, Label, Select, Static


@dataclass
class Field:
    key: str
    label: str
    default: Any = ""
    kind: str = "text"  # text | select | bool
    options: list[str] = field(default_factory=list)
    required: bool = True
    placeholder: str = ""


class FormModal(ModalScreen[dict[str, Any] | None]):
    """A titled form; Enter or OK returns the values, Escape cancels (None)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="form.cancel")
    ]

    def __init__(self, title: str, fields: list[Field], ok: str = "OK") -> None:
        super().__init__()
        self.form_title, self.fields, self.ok = title, fields, ok

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(Text(self.form_title, style="bold"), id="form-title")
            for f in self.fields:
                if f.kind == "bool":
                    yield Checkbox(f.label, bool(f.default), id=f"f-{f.key}")
                    continue
                yield Label(f.label)
                if f.kind == "select":
                    yield Select(
                        [(o, o) for o in f.options],
                        value=f.default or f.options[0],
                        allow_blank=False,
                        id=f"f-{f.key}",
                    )
                else:
                    yield Input(str(f.default), placeholder=f.placeholder, id=f"f-{f.key}")
            yield Static(id="form-error")
            with Horizontal(id="form-buttons"):
                yield Button(self.ok, variant="primary", id="form-ok")
                yield Button("Cancel", id="form-cancel")

    def values(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for f in self.fields:
            widget = self.query_one(f"#f-{f.key}")
            value = widget.value  # type: ignore[attr-defined]
            out[f.key] = value.strip() if isinstance(value, str) else value
        return out

    @on(Button.Pressed, "#form-ok")
    @on(Input.Submitted)
    def _submit(self) -> None:
        values = self.values()
        missing = [
            f.label for f in self.fields if f.required and f.kind == "text" and not values[f.key]
        ]
        if missing:
            self.query_one("#form-error", Static).update(
                Text(f"{missing[0]} is required", style="red")
            )
            return
        self.dismiss(values)

    @on(Button.Pressed, "#form-cancel")
    def action_cancel(self) -> None:
        self.dismiss(None)


def ingest_form() -> FormModal:
    return FormModal(
        "Ingest a gallery manifest",
        [
            Field("manifest", "Manifest (path or URL)", placeholder="widgets.json or https://…"),
            Field("widgets", "Only these widget ids (comma separated, optional)", required=False),
            Field("refresh", "Download again even if unchanged", False, kind="bool"),
        ],
        ok="Ingest",
    )


def build_form(default_name: str = "v1") -> FormModal:
    return FormModal(
        "Build a dataset",
        [
            Field("set_name", "Set name", default_name),
            Field("force", "Overwrite an existing set", False, kind="bool"),
        ],
        ok="Build",
    )


def export_form(default_set: str = "") -> FormModal:
    return FormModal(
        "Export a built set",
        [
            Field("set_name", "Set name", default_set),
            Field("fmt", "Format", "apple", kind="select", options=["apple", "mlx-chat", "alpaca"]),
            Field("out_dir", "Output folder (optional)", required=False),
        ],
        ok="Export",
    )


def train_form(default_set: str = "") -> FormModal:
    """Every setting a run needs (empty: train.yaml's value), drop-long and resume."""
    return FormModal(
        "Train a LoRA adapter",
        [
            Field("set_name", "Set name (empty when resuming)", default_set, required=False),
            Field("resume", "Resume run (id or prefix, optional)", required=False),
            Field("model", "Model (optional: train.yaml's)", required=False),
            Field("iters", "Iterations (optional)", required=False),
            Field("batch_size", "Batch size (optional)", required=False),
            Field("learning_rate", "Learning rate (optional)", required=False),
            Field("max_seq_length", "Max sequence length (optional)", required=False),
            Field("drop_long", "Drop (and list) examples longer than that", False, kind="bool"),
        ],
        ok="Train",
    )


def train_params(v: dict[str, Any]) -> dict[str, Any]:
    """The train stage's parameters from the form; ValueError names a bad field."""
    set_name, resume = v.get("set_name") or None, v.get("resume") or None
    if bool(set_name) == bool(resume):
        raise ValueError("give a set name to start a run, or a run id to resume (not both)")
    overrides: dict[str, Any] = {}
    for key, kind, label in (
        ("iters", int, "Iterations"),
        ("batch_size", int, "Batch size"),
        ("learning_rate", float, "Learning rate"),
        ("max_seq_length", int, "Max sequence length"),
    ):
        raw = str(v.get(key) or "").strip()
        if raw:
            try:
                value = kind(raw)
            except ValueError:
                raise ValueError(f"{label}: {raw!r} is not a number") from None
            if value <= 0:
                raise ValueError(f"{label}: must be more than 0")
            overrides[key] = value
    if v.get("model"):
        overrides["model"] = v["model"]
    return {
        "set_name": set_name,
        "overrides": overrides,
        "resume": resume,
        "drop_long": bool(v.get("drop_long")),
    }


def note_form(item_label: str, note: str) -> FormModal:
    return FormModal(
        f"Curation note for {item_label}", [Field("note", "Note", note, required=False)], ok="Save"
    )


class ConfirmModal(ModalScreen[bool]):
    """A yes/no question (`y`/`n`, Enter = yes, Escape = no)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("y,enter", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]

    def __init__(self, title: str, body: Text) -> None:
        super().__init__()
        self.form_title, self.body = title, body

    def compose(self) -> ComposeResult:
        with Vertical(id="form"):
            yield Static(Text(self.form_title, style="bold"), id="form-title")
            yield Static(self.body)
            with Horizontal(id="form-buttons"):
                yield Button("Yes (y)", variant="primary", id="confirm-yes")
                yield Button("No (n)", id="confirm-no")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)

    @on(Button.Pressed, "#confirm-yes")
    def _yes(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#confirm-no")
    def _no(self) -> None:
        self.dismiss(False)


def teach_estimate_text(est: dict[str, Any], each: str = "") -> Text:
    """The spend of a teacher stage before it runs (the CLI prints the same estimate);
    ``each``: what every widget gets, e.g. "one of 9 categories each"."""
    out = Text()
    out.append(f"{est.get('calls', 0)} calls", style="bold")
    out.append(f" to {est.get('model', '?')} for {est.get('items', 0)} widgets")
    if each:
        out.append(f", {each}")
    if est.get("calls_reused"):
        out.append(f" ({est['calls_reused']} answers reused)")
    out.append(
        f"\n{est.get('input_tokens', 0):,} input tokens, up to "
        f"{est.get('output_tokens_max', 0):,} output tokens\n"
    )
    if est.get("dry_run"):
        out.append("dry run: no requests are sent, no cost", style="green")
    else:
        out.append(f"cost: up to ${est.get('cost_max', 0):.4f}", style="bold yellow")
    for note in est.get("notes") or ():
        out.append(f"\nnote: {note}", style="dim")
    for item, cause in est.get("items_unreadable") or ():
        out.append(f"\nwill fail: {item}: {cause}", style="red")
    return out


def categories_estimate_text(est: dict[str, Any]) -> Text:
    """`teach categories`: the estimate, with the list the teacher chooses from."""
    names = list(est.get("categories") or ())
    out = teach_estimate_text(est, f"one of {len(names)} categories each")
    out.append(f"\ncategories: {', '.join(names)}", style="dim")
    out.append(
        "\n(plus one retry per reply that names no category; written as AI_category)",
        style="dim",
    )
    return out


class ConflictModal(ModalScreen[str | None]):
    """A save met a newer revision: theirs, mine and the diff; the answer is "mine" (keep
    mine on top), "theirs" (take theirs) or "merge" (both in the editor, merged by hand)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("m", "answer('mine')", "Keep mine", id="conflict.mine"),
        Binding("t", "answer('theirs')", "Take theirs", id="conflict.theirs"),
        Binding("e", "answer('merge')", "Merge by hand", id="conflict.merge"),
        Binding("escape", "answer(None)", "Decide later", id="conflict.later"),
    ]

    def __init__(self, title: str, theirs: Text, mine: Text, diff: Text) -> None:
        super().__init__()
        self.form_title, self.theirs, self.mine, self.diff = title, theirs, mine, diff

    def compose(self) -> ComposeResult:
        with Vertical(id="form", classes="conflict"):
            yield Static(Text(self.form_title, style="bold yellow"), id="form-title")
            yield Static(Text("Theirs", style="bold"))
            yield Static(self.theirs, id="conflict-theirs")
            yield Static(Text("Mine", style="bold"))
            yield Static(self.mine, id="conflict-mine")
            yield Static(Text("Diff theirs → mine", style="bold"))
            yield Static(self.diff, id="conflict-diff")
            with Horizontal(id="form-buttons"):
                yield Button("Keep mine (m)", variant="primary", id="conflict-mine-b")
                yield Button("Take theirs (t)", id="conflict-theirs-b")
                yield Button("Merge (e)", id="conflict-merge-b")

    def action_answer(self, answer: str | None) -> None:
        self.dismiss(answer)

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        answers = {"conflict-mine-b": "mine", "conflict-theirs-b": "theirs"}
        self.dismiss(answers.get(event.button.id or "", "merge"))
