"""The live token gauge: the complete example's tokens against max_sequence_length."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static


def gauge_text(
    total: int | None, limit: int, width: int = 30, note: str = "", approximate: bool = False
) -> Text:
    if total is None:
        return Text(note or "tokens: counting…", style="dim")
    filled = min(width, round(width * total / limit)) if limit > 0 else width
    over = total > limit
    colour = "red" if over else ("yellow" if total > 0.9 * limit else "green")
    out = Text()
    # "≈": counted by a stand-in tokenizer (no Apple toolkit configured; see graftwork doctor)
    out.append(f"{'≈' if approximate else ''}{total:,} / {limit:,} tokens  ")
    out.append("█" * filled, style=colour)
    out.append("░" * (width - filled), style="dim")
    left = limit - total
    out.append(
        f"  {abs(left):,} over" if over else f"  {left:,} left", style="bold red" if over else ""
    )
    if note:
        out.append(f"  {note}", style="dim")
    return out


class TokenGauge(Static):
    total: reactive[int | None] = reactive(None)
    limit: reactive[int] = reactive(4095)
    note: reactive[str] = reactive("")
    approximate: reactive[bool] = reactive(False)

    def render(self) -> Text:
        return gauge_text(self.total, self.limit, note=self.note, approximate=self.approximate)
