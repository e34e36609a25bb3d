"""The readmes sample under data/readmes, made into git repositories here, through collect,
chunk, a dry-run teacher and the examples: the pipeline the demo runs, offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from helpers import collect
from support.git_repos import git

from graftwork import wiring
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.sources.readmes.chunks import chunk_stage
from graftwork.core.sources.readmes.provider import ReadmesExamples

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "readmes"


def test_the_sample_collects_with_the_documented_facts(
    workspace: Workspace, tmp_path: Path
) -> None:
    sources = []
    for folder in sorted(SAMPLE.iterdir()):
        repo = tmp_path / folder.name
        shutil.copytree(folder, repo)
        git(repo, "init", "-q")
        git(repo, "add", "-A")
        git(repo, "commit", "-q", "-m", "sample")
        sources.append(str(repo))
    result = collect(workspace, *sources)
    assert result.ok == 4 and not result.failed
    records = json.loads((workspace.root / "collection/awesome_readme_data.json").read_text())
    facts = {r["repo"]: (r["language"], r["project_type"], r["license"]) for r in records}
    assert facts == {
        "tallyho": ("Python", "cli", "MIT"),
        "pocketnote": ("JavaScript", "web_application", "ISC"),
        "ferrocount": ("Rust", "library", "Apache-2.0"),
        "gopherping": ("Go", "cli", ""),
    }
    with workspace.catalog() as db:
        chunked = run_job(db, "chunk", lambda job: chunk_stage(workspace, job=job))
        assert chunked.summary["chunks"] >= 4 and not chunked.failed
        dry = run_job(
            db,
            "instruct",
            lambda job: wiring.instruct(workspace, overrides={"dry_run": True}, job=job),
        )
        assert dry.ok == chunked.summary["chunks"]
        cands, skipped = ReadmesExamples(workspace).candidates(db)
    assert len(cands) == chunked.summary["chunks"] and skipped == []
