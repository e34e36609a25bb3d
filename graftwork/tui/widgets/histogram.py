"""Histogram of total tokens per example, with the max_sequence_length line drawn in red."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from graftwork.tui.budget_model import bins

BLOCKS = " ▁▂▃▄▅▆▇█"


def histogram_text(totals: list[int], limit: int, width: int, height: int) -> Text:
    width = max(10, width - 8)  # room for the count axis
    height = max(3, height - 2)  # room for the token axis
    if not totals:
        return Text("no token counts yet: run budget (b in Runs, or the palette)", style="dim")
    top = max(max(totals), limit) * 11 // 10 or 1
    counts = bins(totals, width, top)
    peak = max(counts) or 1
    line_col = min(width - 1, limit * width // top)
    out = Text()
    for level in range(height, 0, -1):
        out.append(
            f"{peak * level // height:>6} " if level in (height, 1) else " " * 7, style="dim"
        )
        for col, n in enumerate(counts):
            eighths = round(8 * height * n / peak) - 8 * (level - 1)
            ch = BLOCKS[max(0, min(8, eighths))]
            if col == line_col:
                out.append(ch if ch != " " else "│", style="bold red")
            else:
                out.append(ch, style="red" if col > line_col else "cyan")
        out.append("\n")
    axis = f"0{' ' * (line_col - 1)}↑{limit:,}"
    out.append(" " * 7 + axis[:width] + "\n", style="dim")
    out.append(" " * 7 + f"tokens per example (0 … {top:,}); red: over the limit", style="dim")
    return out


class Histogram(Widget):
    totals: reactive[list[int]] = reactive(list, always_update=True)
    limit: reactive[int] = reactive(4095)

    def render(self) -> Text:
        return histogram_text(self.totals, self.limit, self.size.width, self.size.height)
