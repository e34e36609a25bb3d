"""Curation decisions: upsert the current one, keep every change in the history."""

from __future__ import annotations

import pytest

from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import GraftworkError, UnknownItemError
from graftwork.core.base.workspace import Workspace
from graftwork.core.curate import curation


@pytest.fixture
def db(workspace: Workspace):
    db = workspace.catalog()
    for i, iid in enumerate(("clock", "disk")):
        db["items"].insert(
            {
                "id": iid,
                "source": "uebersicht",
                "name": iid,
                "manifest": "{}",
                "manifest_order": i,
                "added_at": now(),
                "updated_at": now(),
            }
        )
    return db


def test_decisions_upsert_and_history(db) -> None:
    curation.set_decision(db, "clock", "include")
    curation.set_decision(db, "clock", "needs-work", "prompt too vague")
    curation.set_decision(db, "disk", "exclude", "coffee only")
    assert curation.get_decision(db, "clock")["decision"] == "needs_work"
    assert curation.get_decision(db, "clock")["note"] == "prompt too vague"
    assert {k: v["decision"] for k, v in curation.all_decisions(db).items()} == {
        "clock": "needs_work",
        "disk": "exclude",
    }
    assert [(h["decision"], h["note"]) for h in curation.decision_history(db, "clock")] == [
        ("include", None),
        ("needs_work", "prompt too vague"),
    ]
    assert db["curation"].count == 2


def test_clear_keeps_history(db) -> None:
    assert curation.clear_decision(db, "clock") is False
    curation.set_decision(db, "clock", "exclude")
    assert curation.clear_decision(db, "clock", "changed my mind") is True
    assert curation.get_decision(db, "clock") is None
    assert [h["decision"] for h in curation.decision_history(db, "clock")] == ["exclude", "cleared"]


def test_unknown_item_and_unknown_decision(db) -> None:
    with pytest.raises(UnknownItemError) as exc:
        curation.set_decision(db, "ghost", "include")
    assert exc.value.exit_code == 2
    with pytest.raises(GraftworkError, match="unknown decision"):
        curation.set_decision(db, "clock", "maybe")
    assert db["curation_history"].count == 0


def test_changing_only_the_decision_keeps_the_note_and_empty_clears_it(workspace) -> None:
    from graftwork.core.curate.curation import get_decision, set_decision

    db = workspace.catalog()
    db["items"].insert({"id": "w1", "source": "uebersicht", "name": "W"})
    set_decision(db, "w1", "needs_work", "prompt misses the refresh rate")
    set_decision(db, "w1", "include")
    assert get_decision(db, "w1")["note"] == "prompt misses the refresh rate"
    set_decision(db, "w1", "include", "")
    assert get_decision(db, "w1")["note"] is None
