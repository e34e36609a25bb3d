"""No lost edits and the seed's file workflow: saves name their base revision, and
prompts/{id}.prompt both follows every revision and feeds hand edits back (real workspace,
real catalog file, real files)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts.pickup import pickup
from graftwork.core.prompts.prompts import RevisionConflict, add_revision, current, set_state


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    ws = Workspace.init(tmp_path / "ws")
    with ws.catalog() as db:
        for iid in ("StatBar", "CpuMeter"):
            db["items"].insert({"id": iid, "source": "uebersicht", "name": iid})
    return ws


def prompt_file(ws: Workspace, iid: str) -> Path:
    return ws.prompts_dir / f"{iid}.prompt"


def test_every_revision_writes_its_prompt_file(ws: Workspace) -> None:
    with ws.catalog() as db:
        add_revision(db, "StatBar", "First.", origin="manual")
        assert prompt_file(ws, "StatBar").read_text(encoding="utf-8") == "First.\n"
        add_revision(db, "StatBar", "Second.", origin="tui")
        assert prompt_file(ws, "StatBar").read_text(encoding="utf-8") == "Second.\n"


def test_a_save_from_an_older_revision_is_a_conflict(ws: Workspace) -> None:
    with ws.catalog() as db:
        add_revision(db, "StatBar", "r1 text", origin="manual")
        add_revision(db, "StatBar", "r2 from the CLI", origin="manual", base_rev=1)
        with pytest.raises(RevisionConflict) as caught:
            add_revision(db, "StatBar", "r1 text, edited in the TUI", origin="tui", base_rev=1)
        assert caught.value.theirs["rev"] == 2 and "r2 (manual) was saved since" in str(
            caught.value
        )
        assert current(db, "StatBar")["text"] == "r2 from the CLI"  # nothing replaced
        # keeping mine on top names the revision it now builds on
        add_revision(db, "StatBar", "r1 text, edited in the TUI", origin="tui", base_rev=2)
        assert current(db, "StatBar")["rev"] == 3


def test_an_accept_in_between_is_not_a_conflict(ws: Workspace) -> None:
    with ws.catalog() as db:
        add_revision(db, "StatBar", "Text.", origin="manual")
        set_state(db, "StatBar", "accepted")  # r2: same text
        add_revision(db, "StatBar", "Text, edited.", origin="tui", base_rev=1)
        assert current(db, "StatBar")["rev"] == 3


def test_hand_edits_are_picked_up_and_stale_edits_reported(ws: Workspace) -> None:
    with ws.catalog() as db:
        add_revision(db, "StatBar", "Original.", origin="manual")
        add_revision(db, "CpuMeter", "Cpu original.", origin="manual")
        prompt_file(ws, "StatBar").write_text("Edited by hand.\r\n", encoding="utf-8")
        found = pickup(ws, db)
        assert found.applied == [("StatBar", 2)] and not found.conflicts
        rev = current(db, "StatBar")
        assert rev["text"] == "Edited by hand." and rev["origin"] == "import"
        assert pickup(ws, db).applied == []  # picked up once

        # CpuMeter's file is edited while the catalog moves on from another process
        prompt_file(ws, "CpuMeter").write_text("Cpu, my edit.", encoding="utf-8")
        _other_writer(ws, "CpuMeter", "Cpu, theirs.")
        found = pickup(ws, db)
        assert found.applied == []
        assert found.conflicts and found.conflicts[0][0] == "CpuMeter"
        assert "r2 (manual) was saved since" in found.conflicts[0][1]
        assert current(db, "CpuMeter")["text"] == "Cpu, theirs."
        # the hand edit is left in the file, never overwritten behind the user's back
        assert prompt_file(ws, "CpuMeter").read_text(encoding="utf-8") == "Cpu, my edit."


def _other_writer(ws: Workspace, iid: str, text: str) -> None:
    """Another process's connection; its revision must not overwrite the hand-edited file."""
    with ws.catalog() as other:
        add_revision(other, iid, text, origin="manual")


def test_build_applies_hand_edits_of_prompt_files_and_the_strategy_file(workspace) -> None:
    from support.widget_rows import add_widget

    from graftwork.adapters.tokenizers import TiktokenBackend
    from graftwork.core.base.jobs import Job
    from graftwork.core.budget.budget import run_budget
    from graftwork.core.budget.tokens import CachingCounter
    from graftwork.core.curate.curation import get_decision
    from graftwork.core.dataset.build import build

    ws = workspace
    with ws.catalog() as db:
        for i in range(3):
            add_widget(db, ws, f"w{i}", order=i)
    counter = CachingCounter(TiktokenBackend(), ws.db_path)
    run_budget(ws, counter, job=Job(None, "budget"))
    strategy_path = ws.root / "training_data_strategy.json"
    strategy = json.loads(strategy_path.read_text(encoding="utf-8"))
    assert strategy["strategy"]["w1"]["action"] == "keep"
    strategy["strategy"]["w1"]["action"] = "exclude"  # the seed's users edit this by hand
    strategy_path.write_text(json.dumps(strategy), encoding="utf-8")
    prompt_file(ws, "w0").write_text("A hand-edited prompt for w0.\n", encoding="utf-8")

    logs: list[str] = []
    job = Job(None, "build")
    job.log = lambda message, level="info", item_id=None, **kw: logs.append(message)  # type: ignore[method-assign]
    result = build(ws, "v1", counter=counter, job=job)
    manifest = json.loads((ws.datasets_dir / "v1" / "manifest.json").read_text())
    assert sorted(i["id"] for i in manifest["items"]) == ["w0", "w2"]
    assert (
        "w1",
        "excluded by curation (from training_data_strategy.json: action set to "
        "exclude by hand (budget said keep))",
    ) in result.skipped
    lines = "".join(
        (ws.datasets_dir / "v1" / f"{s}.jsonl").read_text() for s in ("train", "valid", "test")
    )
    assert "A hand-edited prompt for w0." in lines
    assert any("w0.prompt: hand edit picked up as r2" in m for m in logs)
    assert any("w1: exclude (hand edit of training_data_strategy.json" in m for m in logs)
    with ws.catalog() as db:
        assert get_decision(db, "w1")["decision"] == "exclude"
        assert current(db, "w0")["origin"] == "import"


def test_cli_set_from_a_stale_file_is_reported_not_applied(ws: Workspace, capsys) -> None:
    from graftwork.cli import main

    def run(*args: str) -> int:
        try:
            main(["-w", str(ws.root), *args])
        except SystemExit as exc:
            return int(exc.code or 0)
        return 0

    with ws.catalog() as db:
        add_revision(db, "StatBar", "Original.", origin="manual")
    assert run("prompts", "set", "StatBar", "--text", "Newer, from the CLI.") == 0
    # prompts/StatBar.prompt follows every revision; setting it back changes nothing
    assert run("prompts", "set", "StatBar", "--file", str(ws.prompts_dir / "StatBar.prompt")) == 0
    prompt_file(ws, "StatBar").write_text("Edited from r2.", encoding="utf-8")
    assert run("prompts", "set", "StatBar", "--text", "Theirs, r3.", "--base", "2") == 0
    code = run("prompts", "set", "StatBar", "--file", str(prompt_file(ws, "StatBar")))
    assert code == 1 and "r3 (manual) was saved since" in capsys.readouterr().err
    with ws.catalog() as db:
        assert current(db, "StatBar")["text"] == "Theirs, r3."
    assert (
        run("prompts", "set", "StatBar", "--file", str(prompt_file(ws, "StatBar")), "--force") == 0
    )
    with ws.catalog() as db:
        assert current(db, "StatBar")["text"] == "Edited from r2."
