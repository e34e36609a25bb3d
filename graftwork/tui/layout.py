"""How the panes share the terminal's width: each pane with a side column (the Widgets detail,
the Prompt pane's revisions and diff, the Runs log) gets a default width for it that follows
the terminal, `<` / `>` move the divider, and `z` (or F11) maximizes the focused region.

Pure rules here (tests call them directly); MainScreen applies them on resize, pane switch
and key."""

from __future__ import annotations

from dataclasses import dataclass

# the side column of each pane that has one (the main region takes the rest); pane 1 is the
# Widgets pane (uebersicht) or the Items pane (every other recipe), whichever is mounted
SIDES = {
    "widgets": ("#widgets-detail", "#items-right"),
    "prompt": ("#prompt-right",),
    "runs": ("#runs-right",),
}
# what `z` maximizes for the focused widget: the first of these regions it sits in
REGIONS = (
    "#widgets-left",
    "#widgets-detail",
    "#items-left",
    "#items-right",
    "#prompt-left",
    "#prompt-right",
    "#budget-pane",
    "#runs-table",
    "#runs-right",
)
MIN_SIDE = 20  # the side column never gets narrower than this
MIN_MAIN = 24  # nor the main region
STEP = 4  # cells per `<` / `>`
# the Widgets table keeps this much beside the detail by default: ID, Name (short),
# Tokens, Budget and Decision at 80 columns
WIDGETS_TABLE_MIN = 56
# the Runs table's six columns (id, kind, state, progress, start, duration) with its border
RUNS_TABLE_WIDTH = 80


@dataclass
class Divider:
    """A pane's divider: None follows the default; a number is the side width the user chose
    (kept while the terminal is resized, but never more than leaves MIN_MAIN)."""

    side: int | None = None


def default_side(side: str, width: int) -> int:
    """The width of the side column ``side`` (a selector of SIDES, or its pane's name) in a
    terminal ``width`` cells wide, before any `<` / `>`."""
    if side in ("widgets", "#widgets-detail"):  # under a third; the table keeps its columns
        return max(24, min(round(width * 0.3), width - WIDGETS_TABLE_MIN))
    if side in ("prompt", "#prompt-right"):  # the editor gets three fifths
        return round(width * 0.4)
    if side == "#items-right":  # a recipe's items: the detail about a third, the list the rest
        return max(40, min(round(width * 0.35), width - WIDGETS_TABLE_MIN))
    # runs: the jobs table keeps its columns' width, the log (long lines) gets the rest
    return max(36, width - RUNS_TABLE_WIDTH)


def side_width(side: str, width: int, divider: Divider) -> int:
    wanted = default_side(side, width) if divider.side is None else divider.side
    return max(MIN_SIDE, min(wanted, width - MIN_MAIN))


def move_divider(side: str, width: int, divider: Divider, cells: int) -> int:
    """Move the divider ``cells`` to the right (negative: left); returns the new side width.
    The side column is on the right, so moving the divider left widens it."""
    current = side_width(side, width, divider)
    divider.side = max(MIN_SIDE, min(current - cells, width - MIN_MAIN))
    return divider.side
