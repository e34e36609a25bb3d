"""`?` / F1: every key of the app, by area, with binding ids (the names used in `keymap:`).
A table, so a line too long for the terminal wraps inside its own column."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static


def key_text(binding: Binding, keymap: dict[str, str], display: Callable[[str], str]) -> str:
    """The keys of a binding as shown to the user, with any keymap remapping applied."""
    keys = keymap.get(binding.id or "", binding.key)
    return ", ".join(display(k.strip()) for k in keys.split(","))


def help_text(
    groups: list[tuple[str, list[Binding]]],
    keymap: dict[str, str],
    display: Callable[[str], str],
) -> Table:
    table = Table(
        box=None,
        show_header=True,
        header_style="bold",
        expand=True,
        padding=(0, 1),
        title=Text.assemble(
            ("Keys  ", "bold"),
            ("remap any id under keymap: in graftwork.yaml, e.g. widgets.exclude: x", "dim"),
        ),
        title_justify="left",
    )
    table.add_column("key", style="bold cyan", no_wrap=True, min_width=8)
    table.add_column("does", ratio=1, overflow="fold")
    table.add_column("binding id", style="dim", no_wrap=True)
    for title, bindings in groups:
        table.add_row(Text(title, style="bold underline"), "", "")
        for b in bindings:
            does = Text(b.description or b.action)
            if b.tooltip and b.tooltip != b.description:
                does.append(f" — {b.tooltip}", style="dim")
            table.add_row(key_text(b, keymap, display), does, b.id or "")
        table.add_row("", "", "")
    return table


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "app.pop_screen", "Close", id="help.close")
    ]

    def __init__(self, text: Table) -> None:
        super().__init__()
        self.text = text

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Static(self.text)
