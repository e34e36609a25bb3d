"""Nothing stays stale after a kill, and hostile inputs fail alone: jobs whose process died
become `interrupted`, a set whose build was killed before its catalog row is adopted by the
next build, temp files left by a kill are swept by the next run, prompt files must be
regular UTF-8 files without NUL inside the folder. Real processes (killed with SIGKILL), real
SQLite files, the real entry point."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.cli import run_main
from support.kills import job_process, killed_job
from support.widget_rows import add_widget

from graftwork.core.base.jobs import Job
from graftwork.core.base.workspace import Workspace


def test_a_killed_job_becomes_interrupted_at_the_next_open(workspace: Workspace) -> None:
    dead = killed_job(workspace)
    db = workspace.catalog()
    live = Job(db, "budget", {})  # this process: still running, must stay so
    db.close()
    with workspace.catalog() as db:
        row = db["jobs"].get(dead)
        assert row["state"] == "interrupted" and row["ended_at"]
        assert "pid" in row["error"] and "ended without finishing" in row["error"]
        assert db["jobs"].get(live.id)["state"] == "running"


def test_a_second_ingest_is_refused_while_one_runs(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = tmp_path / "m.json"
    manifest.write_text("[]", encoding="utf-8")
    proc, job_id = job_process(workspace, "ingest")
    try:
        assert run_main(workspace, "ingest", "--manifest", str(manifest)) == 2
        err = capsys.readouterr().err
        assert "ingest is already running" in err and f"pid {proc.pid}" in err
        assert len(err.strip().splitlines()) == 1
        assert run_main(workspace, "curate", "--list") == 0  # read-only commands never block
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert run_main(workspace, "ingest", "--manifest", str(manifest)) == 0  # owner gone
    with workspace.catalog() as db:
        assert db["jobs"].get(job_id)["state"] == "interrupted"


def test_a_run_killed_before_its_first_checkpoint_shows_interrupted(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from graftwork.core.train.runs import create_run

    job_id = killed_job(workspace, "train")
    db = workspace.catalog()
    create_run(
        db, id="20261201-070000-v1-abcd", set_name="v1", config={}, job_id=job_id, total_iters=12
    )
    db.close()
    assert run_main(workspace, "runs") == 0
    out = capsys.readouterr().out
    assert " interrupted " in out and " running " not in out
    assert "graftwork train --resume 20261201-070000-v1-abcd" in out  # the next step is named


def test_build_adopts_a_set_whose_catalog_row_was_lost(workspace: Workspace, capsys) -> None:
    db = workspace.catalog()
    for i in range(4):
        add_widget(db, workspace, f"w{i}", order=i)
    db.close()
    assert run_main(workspace, "build", "--set", "v1") == 0
    first = (workspace.datasets_dir / "v1" / "manifest.json").read_bytes()
    db = workspace.catalog()
    db.execute("delete from datasets where name = 'v1'")  # as if killed before the insert
    db.conn.commit()
    db.close()
    capsys.readouterr()
    assert run_main(workspace, "build", "--set", "v1") == 0
    out = capsys.readouterr()
    assert "recorded" in (out.out + out.err)
    with workspace.catalog() as db:
        row = db["datasets"].get("v1")
        assert json.loads(row["counts"]) == json.loads(first)["counts"]
    assert (workspace.datasets_dir / "v1" / "manifest.json").read_bytes() == first
    assert run_main(workspace, "build", "--set", "v1") == 2  # now known: the usual refusal


def test_temp_files_of_a_killed_writer_are_swept(workspace: Workspace) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    shots = workspace.downloads_dir / ".screenshots"
    shots.mkdir(parents=True)
    stale = [
        shots / f".w1.png.{dead.pid}.abc123.tmp",
        workspace.root / f".training_data_strategy.json.{dead.pid}.x1y2.tmp",
        workspace.root / f".widget_processing_results.csv.{dead.pid}.x1y2.tmp",
    ]
    mine = workspace.root / f".widget_processing_results.csv.{os.getpid()}.live.tmp"
    for p in [*stale, mine]:
        p.write_text("half", encoding="utf-8")
    from graftwork.core.base.atomic import sweep_temp_files

    sweep_temp_files(workspace.root, shots)
    assert not any(p.exists() for p in stale)
    assert mine.exists()  # a live writer's temp file is not ours to delete


def test_atomic_temp_names_carry_the_pid(tmp_path: Path) -> None:
    from graftwork.core.base.atomic import atomic_writer

    with atomic_writer(tmp_path / "out.txt") as fh:
        fh.write("x")
        temps = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert temps and temps[0].startswith(f".out.txt.{os.getpid()}.")


def test_prompt_import_refuses_symlinks_nul_and_bad_utf8(
    workspace: Workspace, tmp_path: Path, capsys
) -> None:
    db = workspace.catalog()
    for name in ("good", "link", "nul", "latin"):
        add_widget(db, workspace, name, prompt=None)
    db.close()
    folder = tmp_path / "in"
    folder.mkdir()
    secret = tmp_path / "secret.txt"
    secret.write_text("root:x:0:0:root:/root:/bin/bash\n", encoding="utf-8")
    (folder / "good.prompt").write_text("Create a clock widget.", encoding="utf-8")
    (folder / "link.prompt").symlink_to(secret)
    (folder / "nul.prompt").write_bytes(b"Create a\x00 widget.")
    (folder / "latin.prompt").write_bytes("Créer".encode("latin-1"))
    assert run_main(workspace, "prompts", "import", str(folder)) == 1
    err = capsys.readouterr().err
    assert "link: link.prompt is a symlink" in err
    assert "nul: nul.prompt contains a NUL byte" in err
    assert "latin: latin.prompt is not UTF-8" in err
    with workspace.catalog() as db:
        texts = [r["text"] for r in db.query("select text from prompt_revisions")]
    assert texts == ["Create a clock widget."]


def test_exclusive_kinds_include_plan_teach_stages() -> None:
    from graftwork.core.base.jobs import is_exclusive

    assert is_exclusive("teach") and is_exclusive("teach.drafts") and is_exclusive("ingest")
    assert not is_exclusive("budget") and not is_exclusive("prompts.import")


def test_build_killed_at_random_moments_then_rerun_equals_uninterrupted(
    workspace: Workspace,
) -> None:
    import random

    with workspace.catalog() as db:
        for i in range(12):
            add_widget(db, workspace, f"w{i}", order=i)
    gw = [sys.executable, "-m", "graftwork", "-w", str(workspace.root)]
    assert subprocess.run([*gw, "build", "--set", "ref"], capture_output=True).returncode == 0
    ref = workspace.datasets_dir / "ref"
    rng = random.Random(3)
    for attempt in range(2):
        name = f"k{attempt}"
        proc = subprocess.Popen([*gw, "build", "--set", name], stdout=subprocess.DEVNULL)
        time.sleep(rng.uniform(0.5, 2.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
        again = subprocess.run([*gw, "build", "--set", name], capture_output=True, text=True)
        # A kill that lands after the set was placed and recorded leaves a finished set: the
        # rerun then rightly refuses to overwrite it. Anything else must rebuild cleanly.
        finished = again.returncode == 2 and "already exists" in again.stderr
        assert again.returncode == 0 or finished, again.stderr
        for split in ("train", "valid", "test"):
            got = (workspace.datasets_dir / name / f"{split}.jsonl").read_bytes()
            assert got == (ref / f"{split}.jsonl").read_bytes(), (attempt, split)
    with workspace.catalog() as db:
        assert db.execute("select count(*) from jobs where state = 'running'").fetchone()[0] == 0
        assert {r[0] for r in db.execute("select name from datasets")} >= {"ref", "k0", "k1"}
    assert not [p for p in workspace.datasets_dir.iterdir() if p.name.startswith(".")]


def test_prompt_files_a_kill_left_behind_are_written_by_the_next_import(
    workspace: Workspace, tmp_path: Path
) -> None:
    """Killed between a revision's commit and its prompts/{id}.prompt: the file is missing
    (and a temp file of the dead writer lies there); the next import writes it and sweeps."""
    from graftwork.core.prompts.prompts import add_revision

    with workspace.catalog() as db:
        add_widget(db, workspace, "w1", prompt=None)
        add_revision(db, "w1", "Make a clock widget.", origin="import")
        # as if killed after the commit, before the file: no file, no record of one
        (workspace.prompts_dir / "w1.prompt").unlink()
        db.execute("delete from prompt_files")
        db.conn.commit()
    mirror = workspace.prompts_dir / "w1.prompt"
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    stale = workspace.prompts_dir / f".w1.prompt.{dead.pid}.ab12cd34.tmp"
    stale.parent.mkdir(exist_ok=True)
    stale.write_text("half", encoding="utf-8")
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "w1.prompt").write_text("Make a clock widget.", encoding="utf-8")  # unchanged
    assert run_main(workspace, "prompts", "import", str(folder)) == 0
    assert mirror.read_text(encoding="utf-8") == "Make a clock widget.\n"
    assert not stale.exists()
