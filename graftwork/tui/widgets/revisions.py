"""Revision list helpers: labels and a coloured unified diff (prompt text is never markup)."""

from __future__ import annotations

import difflib

from rich.text import Text

from graftwork.tui.data import Revision


def revision_label(rev: Revision) -> Text:
    stamp = rev.created_at[:16].replace("T", " ")
    label = Text(f"r{rev.rev:<3} ")
    label.append(f"{rev.origin:<9}", style="cyan")
    label.append(
        f"{rev.state:<9}", style={"accepted": "green", "rejected": "red"}.get(rev.state, "yellow")
    )
    label.append(stamp, style="dim")
    return label


def diff_text(old: str, new: str, old_name: str, new_name: str) -> Text:
    out = Text()
    lines = list(
        difflib.unified_diff(
            old.splitlines(), new.splitlines(), old_name, new_name, lineterm="", n=2
        )
    )
    if not lines:
        return Text("no difference", style="dim")
    for line in lines:
        style = (
            "bold"
            if line.startswith(("---", "+++"))
            else "green"
            if line.startswith("+")
            else "red"
            if line.startswith("-")
            else "cyan"
            if line.startswith("@@")
            else ""
        )
        out.append(line + "\n", style=style)
    out.rstrip()
    return out
