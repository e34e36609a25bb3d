"""atomic.sweep_staged: what a writer killed inside `staged_dir(replace=True)` left behind.
The training child replaces its checkpoint folder this way and can be killed at any moment
by a cancel (adapters/mlx/trainer.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graftwork.core.base.atomic import staged_dir, sweep_staged


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_killed_between_the_two_renames_puts_the_old_folder_back(tmp_path: Path) -> None:
    # The state a kill leaves after "old moved aside" and before "new renamed into place".
    pid = _dead_pid()
    old = tmp_path / f".last.{pid}.abc123.old"
    new = tmp_path / f".last.{pid}.abc123.partial"
    old.mkdir()
    (old / "state.json").write_text('{"iteration": 4}')
    new.mkdir()
    (new / "state.json").write_text('{"iteration": 6}')
    sweep_staged(tmp_path / "last")
    assert [p.name for p in tmp_path.iterdir()] == ["last"]
    assert (tmp_path / "last" / "state.json").read_text() == '{"iteration": 4}'


def test_a_dead_writers_old_folder_goes_when_the_new_one_is_in_place(tmp_path: Path) -> None:
    pid = _dead_pid()
    with staged_dir(tmp_path / "last") as stage:
        (stage / "state.json").write_text("new")
    (tmp_path / f".last.{pid}.x.old").mkdir()
    sweep_staged(tmp_path / "last")
    assert [p.name for p in tmp_path.iterdir()] == ["last"]
    assert (tmp_path / "last" / "state.json").read_text() == "new"
