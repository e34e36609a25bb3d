"""What every source kind provides to the pipeline."""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class Source(Protocol):
    kind: str

    def assistant_text(self, item_folder: Path) -> str:
        """The training target for one item (for widgets: its concatenated JSX code)."""
        ...
