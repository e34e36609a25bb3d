"""Accept or reject planned prompts' answers by hand, the same from `graftwork plan accept|
reject` and the workstation's keys: the gate row (decided_by manual, which `teach refine`
keeps), the items' updated_at (the live catalog shows the change) and the seed's files
(dataset_<v>.jsonl, _rejected, _stats), rewritten once for the whole batch."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import sqlite_utils

from graftwork.core.base.catalog.db import now
from graftwork.core.base.workspace import Workspace
from graftwork.core.plan import store


@dataclass
class Decided:
    state: str
    done: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (item id, cause)
    files: list[Path] = field(default_factory=list)


def decide(
    ws: Workspace,
    db: sqlite_utils.Database,
    item_ids: Sequence[str],
    state: str,
    note: str = "",
    *,
    area: str = "main",
) -> Decided:
    """Decide each id; an id that is not a prompt of the newest plan, or has no answer to
    judge, fails with its cause and the others go on."""
    from graftwork.core.plan.exports import export_teach_files

    spec_id = store.latest_spec(db)["id"]  # NoPlanError (exit 2) when there is no plan
    out = Decided(state)
    for item_id in dict.fromkeys(item_ids):  # each once, in the order given
        known = db.execute(
            "SELECT 1 FROM plan_items WHERE item_id = ? AND spec_id = ?", [item_id, spec_id]
        ).fetchone()
        if known is None:
            out.failed.append((item_id, "not a prompt of the newest plan"))
            continue
        try:
            store.decide_by_hand(db, item_id, state, note, area=area)
        except store.NoPlanError as exc:
            out.failed.append((item_id, str(exc).removeprefix(f"{item_id}: ")))
            continue
        out.done.append(item_id)
    if out.done:
        stamp = now()
        with db.conn:
            db.conn.executemany(
                "UPDATE items SET updated_at = ? WHERE id = ?", [(stamp, i) for i in out.done]
            )
        out.files = export_teach_files(ws, db, area)
    return out
