"""`?` / F1: every key of the app, by area, with binding ids (the names used in `keymap:`)."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def help_text(
    groups: list[tuple[str, list[Binding]]], keymap: dict[str, str], display: callable
) -> Text:  # type: ignore[valid-type]
    out = Text()
    out.append("Keys  ", style="bold")
    out.append(
        "(remap any id under keymap: in graftwork.yaml, e.g. widgets.exclude: x)\n", style="dim"
    )
    for title, bindings in groups:
        out.append(f"\n{title}\n", style="bold underline")
        for b in bindings:
            keys = keymap.get(b.id or "", b.key)
            shown = ", ".join(display(k) for k in keys.split(","))
            out.append(f"  {shown:<16}", style="bold cyan")
            out.append(f"{b.description or b.action:<22}")
            out.append(f"{b.id or '':<26}", style="dim")
            out.append((b.tooltip or "") + "\n", style="dim")
    return out


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close", id="help.close")
    ]

    def __init__(self, text: Text) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self.text)
