"""Messages that cross the app (pane-local messages are nested on their widgets)."""

from __future__ import annotations

from textual.message import Message

from graftwork.core.base.jobs import JobEvent


class JobUpdate(Message):
    """A JobEvent from a worker thread (posted with the thread-safe post_message)."""

    def __init__(self, event: JobEvent) -> None:
        super().__init__()
        self.event = event


class ItemSelected(Message):
    def __init__(self, item_id: str | None) -> None:
        super().__init__()
        self.item_id = item_id


class CatalogChanged(Message):
    """Something wrote to the catalog: panes reload what they show (off the UI thread)."""

    def __init__(self, item_id: str | None = None) -> None:
        super().__init__()
        self.item_id = item_id


class PromptCounted(Message):
    """The live count of the selected example after an edit."""

    def __init__(self, item_id: str, total: int, parts: dict[str, int]) -> None:
        super().__init__()
        self.item_id = item_id
        self.total = total
        self.parts = parts
