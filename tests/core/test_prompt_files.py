"""No lost edits and the seed's file workflow: saves name their base revision, and
prompts/{id}.prompt both follows every revision and feeds hand edits back (real workspace,
real catalog file, real files)."""

from __future__ import annotations

import json
import os
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


# ---- the pickup reads only files whose stat changed ------------------------------------------


def _recorded(ws: Workspace, iid: str):
    from graftwork.core.prompts.files import records_for

    with ws.catalog() as db:
        return records_for(db, iid)


def _edit_in_place(path: Path, data: bytes, mtime_ns: int) -> None:
    """Rewrite the file's bytes in the same inode, then set its mtime (as an editor that
    writes in place, or a tool that keeps timestamps, would leave it)."""
    with open(path, "r+b") as fh:
        fh.write(data)
        fh.truncate()
    os.utime(path, ns=(mtime_ns, mtime_ns))


def test_unchanged_files_are_not_read_and_a_touch_is_read_once(ws: Workspace) -> None:
    with ws.catalog() as db:
        add_revision(db, "StatBar", "Original.", origin="manual")
        add_revision(db, "CpuMeter", "Cpu original.", origin="manual")
        assert pickup(ws, db).read == 0  # both stat as written
        path = prompt_file(ws, "StatBar")
        record = _recorded(ws, "StatBar")
        assert (record.size, record.ino) == (path.stat().st_size, path.stat().st_ino)
        os.utime(path, ns=(record.mtime_ns + 7_000_001, record.mtime_ns + 7_000_001))
        found = pickup(ws, db)  # touched: read, found to be ours, its new stat recorded
        assert (found.read, found.applied, found.failed) == (1, [], [])
        assert pickup(ws, db).read == 0
        assert current(db, "StatBar")["rev"] == 1


@pytest.mark.parametrize(
    ("edit", "mtime_shift"),
    [(b"Edited!!!\n", 1_000_000), (b"Original, edited at the same moment.\n", 0)],
    ids=["same size, new mtime", "same mtime, new size"],
)
def test_an_in_place_edit_keeping_the_size_or_the_mtime_is_picked_up(
    ws: Workspace, edit: bytes, mtime_shift: int
) -> None:
    with ws.catalog() as db:
        add_revision(db, "StatBar", "Original.", origin="manual")
        path = prompt_file(ws, "StatBar")
        record = _recorded(ws, "StatBar")
        _edit_in_place(path, edit, record.mtime_ns + mtime_shift)
        st = path.stat()
        assert st.st_ino == record.ino  # the same file: only its size or mtime tells
        assert (st.st_size == record.size) == (mtime_shift != 0)
        assert (st.st_mtime_ns == record.mtime_ns) == (mtime_shift == 0)
        found = pickup(ws, db)
        assert found.applied == [("StatBar", 2)] and found.read == 1
        assert current(db, "StatBar")["text"] == edit.decode().strip()


def test_a_file_replaced_with_the_same_size_and_mtime_is_picked_up(ws: Workspace) -> None:
    """Editors that save by writing a new file and renaming it give it a new inode."""
    with ws.catalog() as db:
        add_revision(db, "StatBar", "Original.", origin="manual")
        path = prompt_file(ws, "StatBar")
        record = _recorded(ws, "StatBar")
        new = path.with_name("StatBar.prompt~")
        new.write_bytes(b"Replaced.\n")
        os.utime(new, ns=(record.mtime_ns, record.mtime_ns))
        path.unlink()  # the old inode is freed only after the new file has its own
        os.replace(new, path)
        found = pickup(ws, db)
        assert found.applied == [("StatBar", 2)]
        assert current(db, "StatBar")["text"] == "Replaced."


# ---- a prompts/ folder that cannot be written --------------------------------------------------


def test_prompts_set_into_a_read_only_folder_says_so_and_heals_later(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from support.cli import run_main
    from support.readonly import read_only

    with ws.catalog() as db:
        add_revision(db, "StatBar", "Original.", origin="manual")
    new = tmp_path / "new.prompt"
    new.write_text("Set from a file while prompts/ is read-only.", encoding="utf-8")
    capsys.readouterr()
    with read_only(ws.prompts_dir):
        code = run_main(ws, "prompts", "set", "StatBar", "--file", str(new))
        out, err = capsys.readouterr()
        assert code == 1, err
        assert out.strip() == "StatBar: rev 2 draft"  # the revision is saved ...
        lines = err.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(  # ... its file is not, said once
            "error: prompts/StatBar.prompt: cannot write it ("
        )
        assert "not permitted" in lines[0] or "denied" in lines[0]
        assert run_main(ws, "prompts", "accept", "StatBar") == 1  # r3: same rule
        assert "prompts/StatBar.prompt: cannot write it" in capsys.readouterr().err
        # a stage that reads prompts meanwhile: the stale file is not an edit; one line
        with ws.catalog() as db:
            found = pickup(ws, db)
            assert (found.applied, found.conflicts) == ([], [])
            assert len(found.failed) == 1 and "cannot write it" in found.failed[0][1]
    assert prompt_file(ws, "StatBar").read_text(encoding="utf-8") == "Original.\n"
    with ws.catalog() as db:  # writable again: the next pickup writes the file, adds nothing
        found = pickup(ws, db)
        assert (found.applied, found.conflicts, found.failed) == ([], [], [])
        rev = current(db, "StatBar")
        assert (rev["rev"], rev["state"]) == (3, "accepted")
    assert prompt_file(ws, "StatBar").read_text(encoding="utf-8") == (
        "Set from a file while prompts/ is read-only.\n"
    )


def test_prompts_import_into_a_read_only_folder_fails_each_item_with_its_file(
    ws: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from support.cli import run_main
    from support.readonly import read_only

    ws.prompts_dir.mkdir(exist_ok=True)
    src = tmp_path / "incoming"
    src.mkdir()
    (src / "StatBar.prompt").write_text("Imported StatBar.", encoding="utf-8")
    (src / "CpuMeter.prompt").write_text("Imported CpuMeter.", encoding="utf-8")
    capsys.readouterr()
    with read_only(ws.prompts_dir):
        code = run_main(ws, "prompts", "import", str(src))
    out, err = capsys.readouterr()
    assert code == 1, err
    assert "imported 2 prompt(s)" in out
    for iid in ("StatBar", "CpuMeter"):
        assert f"prompts/{iid}.prompt: cannot write it (" in err
    with ws.catalog() as db:
        assert current(db, "CpuMeter")["text"] == "Imported CpuMeter."
        assert pickup(ws, db).failed == []  # writable again: the files follow
    assert prompt_file(ws, "CpuMeter").read_text(encoding="utf-8") == "Imported CpuMeter.\n"


def test_a_pipe_or_a_link_in_place_of_a_prompt_file_is_reported_never_read(
    ws: Workspace, tmp_path: Path
) -> None:
    with ws.catalog() as db:
        add_revision(db, "StatBar", "Original.", origin="manual")
        add_revision(db, "CpuMeter", "Cpu original.", origin="manual")
        prompt_file(ws, "StatBar").unlink()
        os.mkfifo(prompt_file(ws, "StatBar"))  # opening it would wait for a writer forever
        secret = tmp_path / "secret.txt"
        secret.write_text("not a prompt", encoding="utf-8")
        prompt_file(ws, "CpuMeter").unlink()
        prompt_file(ws, "CpuMeter").symlink_to(secret)
        found = pickup(ws, db)
        assert found.applied == [] and found.read == 0
        assert sorted(found.failed) == [
            (
                "CpuMeter",
                "prompts/CpuMeter.prompt: CpuMeter.prompt is a symlink; prompt files must be regular files",
            ),
            ("StatBar", "prompts/StatBar.prompt: StatBar.prompt is not a regular file"),
        ]
        assert current(db, "CpuMeter")["text"] == "Cpu original."
