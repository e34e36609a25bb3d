"""A readmes workspace through budget, build, records and the Alpaca export: the engine's
stages on this recipe's examples, split by repository."""

from __future__ import annotations

import json
from pathlib import Path

from helpers import PY_FILES, collect, configure
from support.git_repos import write_files

from graftwork import wiring
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.exporters import export_set
from graftwork.core.sources.readmes.chunks import chunk_stage
from graftwork.core.sources.readmes.records import records_stage


def test_build_splits_by_repository_and_records_and_alpaca_agree(
    workspace: Workspace, tmp_path: Path
) -> None:
    text = workspace.config_path.read_text()
    workspace.config_path.write_text(text.replace("recipe: uebersicht", "recipe: readmes"))
    configure(workspace, chunk={"min_chars": 60, "max_chars": 200})
    sources = []
    for r in range(12):
        parts = [f"## Part {n}\n\nRepo {r} part {n} says one thing. " * 3 for n in range(3)]
        write_files(tmp_path / f"repo{r:02d}", {**PY_FILES, "README.md": "\n\n".join(parts)})
        sources.append(str(tmp_path / f"repo{r:02d}"))
    assert collect(workspace, *sources).ok == 12
    with workspace.catalog() as db:
        run = lambda kind, fn: run_job(db, kind, fn)  # noqa: E731
        chunks = run("chunk", lambda job: chunk_stage(workspace, job=job)).summary["chunks"]
        run("budget", lambda job: wiring.budget(workspace, job=job))
        built = run("build", lambda job: wiring.build(workspace, "readmes", job=job))
        recs = run("records", lambda job: records_stage(workspace, set_name="readmes", job=job))
    assert built.ok == chunks == recs.ok
    set_dir = workspace.datasets_dir / "readmes"
    manifest = json.loads((set_dir / "manifest.json").read_text())
    splits_of: dict[str, set[str]] = {}
    for item in manifest["items"]:
        splits_of.setdefault(item["id"].split("#")[0], set()).add(item["split"])
    assert all(len(s) == 1 for s in splits_of.values())  # no README on both sides
    assert len({next(iter(s)) for s in splits_of.values()}) >= 2
    train = json.loads((set_dir / "train.json").read_text())
    test = json.loads((set_dir / "test.json").read_text())
    n_test = sum(1 for i in manifest["items"] if i["split"] == "test")
    assert (len(train), len(test)) == (chunks - n_test, n_test)
    out = export_set(workspace, "readmes", "alpaca", tmp_path / "alpaca")
    assert not out.failed
    rows = [
        json.loads(line)
        for p in sorted((tmp_path / "alpaca").glob("*.jsonl"))
        for line in p.read_text().splitlines()
    ]
    by_output = {r["output"]: r for r in rows}
    every = json.loads((set_dir / "sft_dataset.json").read_text())
    for record in every:
        row = by_output[record["content"]]
        assert row["instruction"] == record["instruction"]
        assert row["input"].startswith("Project type: cli\nPrimary language: Python\nFile tree:")
