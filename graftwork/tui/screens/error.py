"""A clear error screen (locked or corrupt catalog, broken config): no traceback."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.widgets import Static


class ErrorScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q,escape,enter", "app.quit", "Quit", id="error.quit")
    ]

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text, self.message = title, message

    def compose(self) -> ComposeResult:
        body = Text()
        body.append(self.title_text + "\n\n", style="bold red")
        body.append(self.message)  # may quote file names: plain text
        body.append("\n\nPress q to quit.", style="dim")
        with Middle(), Center():
            yield Static(body, id="error-box")
