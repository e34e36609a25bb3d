"""Hand edits of ``training_data_strategy.json`` become curation decisions.

The seed's users open the strategy file that budget writes, change a widget's ``action``
(keep <-> exclude) and build. Budget's own verdict is in the catalog's ``budget`` table, so an
entry whose action differs from it was edited by hand. Build applies such an edit as a
decision (keep -> include, exclude -> exclude) with a note naming the file, unless the item's
decision was changed after the file was (the newer of the two wins, so a decision made in the
TUI after the edit is not undone by the next build).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from graftwork.core.base.workspace import Workspace
from graftwork.core.budget.budget import STRATEGY_FILE, read_strategy
from graftwork.core.curate.curation import get_decision, set_decision

DECISION_FOR = {"keep": "include", "exclude": "exclude"}


@dataclass
class StrategyEdits:
    applied: list[tuple[str, str]] = field(default_factory=list)  # (item_id, decision)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (item_id, cause)


def _mtime_iso(ws: Workspace) -> str:
    stamp = (ws.root / STRATEGY_FILE).stat().st_mtime
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="milliseconds")


def apply_strategy_edits(ws: Workspace, db: Any) -> StrategyEdits:
    """Apply every hand-edited action in the strategy file (see the module doc)."""
    out = StrategyEdits()
    data = read_strategy(ws.root / STRATEGY_FILE)
    if data is None:
        return out
    edited_at = _mtime_iso(ws)
    computed = {r["item_id"]: r["action"] for r in db.query("SELECT item_id, action FROM budget")}
    known = {r["id"] for r in db.query("SELECT id FROM items")}
    for item_id, entry in sorted(data["strategy"].items()):
        action = entry.get("action") if isinstance(entry, dict) else None
        if item_id not in computed or action == computed[item_id]:
            continue  # budget's own verdict (or an item budget never counted)
        if item_id not in known:
            out.problems.append((item_id, f"{STRATEGY_FILE}: unknown item id; ignored"))
            continue
        if action not in DECISION_FOR:
            out.problems.append(
                (item_id, f"{STRATEGY_FILE}: action {action!r} is not keep or exclude; ignored")
            )
            continue
        decision = DECISION_FOR[action]
        current = get_decision(db, item_id) or {}
        if current.get("decision") == decision:
            continue
        if current.get("updated_at") and current["updated_at"] > edited_at:
            continue  # decided after the file was edited: the newer choice stands
        set_decision(
            db,
            item_id,
            decision,
            f"from {STRATEGY_FILE}: action set to {action} by hand "
            f"(budget said {computed[item_id]})",
        )
        out.applied.append((item_id, decision))
    return out


def log_strategy_edits(job: Any, edits: StrategyEdits) -> None:
    for item_id, decision in edits.applied:
        job.log(
            f"{item_id}: {decision} (hand edit of {STRATEGY_FILE} applied as a curation decision)",
            item_id=item_id,
        )
    for item_id, cause in edits.problems:
        job.log(f"{item_id}: {cause}", level="warning", item_id=item_id)
