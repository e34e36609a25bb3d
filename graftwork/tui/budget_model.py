"""Pure arithmetic for the Budget pane: the strategy preview for a limit, and histogram bins.
Cheap enough to recompute on every keystroke in the limit field (5,000 totals take ~1 ms)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from graftwork.tui.data import WidgetRow

PARTS = ("system", "tools", "user", "assistant", "structure")


@dataclass
class Preview:
    limit: int
    keep: int = 0
    over: int = 0  # excluded by the limit
    curated_out: int = 0  # excluded by a curation decision (always wins)
    uncounted: int = 0  # no count yet (no prompt, not budgeted)
    over_ids: list[str] = field(default_factory=list)

    @property
    def excluded(self) -> int:
        return self.over + self.curated_out


def preview(rows: Iterable[WidgetRow], limit: int) -> Preview:
    out = Preview(limit)
    for row in rows:
        if row.decision in ("exclude", "needs_work"):  # build leaves both out
            out.curated_out += 1
        elif row.tokens is None:
            out.uncounted += 1
        elif row.tokens > limit:
            out.over += 1
            out.over_ids.append(row.id)
        else:
            out.keep += 1
    return out


def bins(totals: list[int], count: int, top: int) -> list[int]:
    """``count`` equal bins over [0, top]; values above top go in the last bin."""
    out = [0] * count
    if top <= 0:
        return out
    for t in totals:
        out[min(count - 1, max(0, t * count // top))] += 1
    return out
