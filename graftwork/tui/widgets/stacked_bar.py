"""A stacked bar of one example's tokens: system / tools / user / assistant / structure."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from graftwork.tui.budget_model import PARTS

COLOURS = {
    "system": "blue",
    "tools": "magenta",
    "user": "green",
    "assistant": "yellow",
    "structure": "bright_black",
}


def stacked_text(title: str, parts: dict[str, int], limit: int, width: int) -> Text:
    out = Text()
    out.append(title or "no example selected", style="bold")
    total = sum(parts.get(p, 0) for p in PARTS)
    if not total:
        out.append("\nno breakdown yet (run budget, or edit the prompt)", style="dim")
        return out
    out.append(f"  {total:,} tokens of {limit:,}\n")
    width = max(10, width)
    scale = max(total, limit)
    used = 0
    for part in PARTS:
        cells = round(width * parts.get(part, 0) / scale)
        cells = min(cells, width - used)
        used += cells
        out.append("█" * cells, style=COLOURS[part])
    limit_col = round(width * limit / scale)
    out.append("░" * max(0, limit_col - used), style="dim")
    out.append("\n")
    for part in PARTS:
        out.append("■ ", style=COLOURS[part])
        out.append(f"{part} {parts.get(part, 0):,}   ")
    return out


class StackedBar(Widget):
    title: reactive[str] = reactive("")
    parts: reactive[dict[str, int]] = reactive(dict, always_update=True)
    limit: reactive[int] = reactive(4095)

    def render(self) -> Text:
        return stacked_text(self.title, self.parts, self.limit, self.size.width)
