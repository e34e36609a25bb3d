"""Examples and the seed's SFT records from chunks (real catalog, real collect and chunk)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import PY_FILES, collect, configure
from support.git_repos import write_files

from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts import prompts
from graftwork.core.sources.readmes.chunks import chunk_stage
from graftwork.core.sources.readmes.provider import ReadmesExamples
from graftwork.core.sources.readmes.records import write_seed_files


@pytest.fixture
def ws(workspace: Workspace, tmp_path: Path) -> Workspace:
    configure(workspace, chunk={"min_chars": 40, "max_chars": 120})
    for name in ("alpha", "beta"):
        readme = f"# {name}\n\n{name} does one thing well. " + "It is small and tidy. " * 3
        readme += "\n\n## Usage\n\nRun the tool in a folder. It prints a report."
        write_files(tmp_path / name, {**PY_FILES, "README.md": readme})
    assert collect(workspace, str(tmp_path / "alpha"), str(tmp_path / "beta")).ok == 2
    with workspace.catalog() as db:
        run_job(db, "chunk", lambda job: chunk_stage(workspace, job=job))
    return workspace


def test_examples_carry_instruction_input_and_chunk_losslessly(ws: Workspace) -> None:
    provider = ReadmesExamples(ws)
    with ws.catalog() as db:
        cands, skipped = provider.candidates(db)
        assert skipped == [] and len(cands) == 4
        ex = provider.example(db, cands[0])
        prompts.add_revision(
            db, cands[1].item_id, "rejected one", origin="manual", state="rejected"
        )
        assert provider.candidates(db)[1] == [(cands[1].item_id, "current instruction is rejected")]
    assert ex.system.startswith("You write README files")
    fields = ex.alpaca_fields()
    assert fields["instruction"] == cands[0].prompt
    assert fields["input"].startswith("Project type: cli\nPrimary language: Python\nFile tree:\n")
    assert "Key file pyproject.toml:" in fields["input"]
    assert fields["output"].startswith("# alpha")
    assert ex.meta["split_key"] == "alpha"


def test_an_edit_of_the_whole_user_turn_does_not_repeat_the_input(ws: Workspace) -> None:
    provider = ReadmesExamples(ws)
    with ws.catalog() as db:
        cand = provider.candidates(db)[0][0]
        ex = provider.example(db, cand)
        edited = ex.user.replace(cand.prompt, "Write the top of the README.")
        again = provider.example_for(db, cand.item_id, edited)
    assert again.user.count("File tree:") == 1
    assert again.alpaca_fields()["instruction"] == "Write the top of the README."


def test_key_files_can_be_left_out_of_examples(ws: Workspace) -> None:
    configure(ws, key_files_in_examples=False)
    provider = ReadmesExamples(ws)
    with ws.catalog() as db:
        cand = provider.candidates(db)[0][0]
        assert "Key file" not in provider.example(db, cand).user
        assert "key_files" not in provider.record(db, cand.item_id, cand.prompt)["input"]


def test_seed_files_hold_the_seed_shape_split_by_repository(ws: Workspace, tmp_path: Path) -> None:
    provider = ReadmesExamples(ws)
    with ws.catalog() as db:
        cands, _ = provider.candidates(db)
        items = [(c.item_id, "test" if c.ref == "beta" else "train") for c in cands]
        counts, failed = write_seed_files(db, provider, tmp_path / "set", items)
    assert failed == [] and counts == {"records": 4, "train": 2, "test": 2}
    every = json.loads((tmp_path / "set/sft_dataset.json").read_text())
    test = json.loads((tmp_path / "set/test.json").read_text())
    record = every[0]
    assert set(record) == {"instruction", "input", "content"}
    assert set(record["input"]) == {"file_tree", "project_type", "key_files"}
    assert record["input"]["project_type"] == "cli" and "README.md" in record["input"]["file_tree"]
    assert all(r["content"].startswith(("# beta", "## Usage")) for r in test)


def test_dashboard_and_item_rows(ws: Workspace) -> None:
    from graftwork.core.sources.readmes.status import dashboard, item_rows

    with ws.catalog() as db:
        phases = dict(dashboard(ws, db))
        rows = item_rows(ws, db)
    assert phases["1 collect"] == "2 repositories collected, 0 failed"
    assert phases["2 chunk"].startswith("4 chunks")
    assert phases["3 instruct"].endswith("4 on their template")
    assert phases["5 train"] == "0 run(s)"
    assert {r["repo"] for r in rows} == {"alpha", "beta"}
    assert all(
        len({r["split"] for r in rows if r["repo"] == repo}) == 1 for repo in ("alpha", "beta")
    )
    assert rows[0]["instruction"].startswith("Write the")
