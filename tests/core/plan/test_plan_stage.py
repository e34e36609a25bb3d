"""`graftwork plan`: spec -> catalog items (source plan) and prompt_plan_v1.jsonl."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

from support.cli import run_cli

from graftwork.core.base.config import configs_dir
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.plan.planner import run_plan

SPECS = configs_dir() / "specs"


def example_spec(ws: Workspace) -> Path:
    shutil.copy(SPECS / "travel_guide.yaml", ws.root / "spec.yaml")
    shutil.copy(SPECS / "travel_cities.txt", ws.root / "travel_cities.txt")
    return ws.root / "spec.yaml"


def gw(ws: Workspace, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, ws=ws, timeout=120)


def test_plan_writes_items_and_the_plan_file_and_replanning_keeps_ids(workspace: Workspace) -> None:
    example_spec(workspace)
    db = workspace.catalog()
    result = run_job(db, "plan", lambda job: run_plan(workspace, job=job))
    assert result.exit_code == 0 and result.summary["prompts"] == 120
    plan_file = workspace.root / "data" / "interim" / "prompt_plan_v1.jsonl"
    lines = [json.loads(line) for line in plan_file.read_text(encoding="utf-8").splitlines()]
    assert len(lines) == 120 and lines[0]["dataset"] == "travel_guide"
    assert set(lines[0]) == {
        "id",
        "dataset",
        "version",
        "category",
        "template_id",
        "prompt",
        "variables",
        "tags",
    }
    items = {r["id"]: r for r in db.query("SELECT * FROM items WHERE source = 'plan'")}
    assert set(items) == {line["id"] for line in lines}
    assert db.execute("SELECT COUNT(*) FROM plan_items").fetchone()[0] == 120
    first = plan_file.read_bytes()
    run_job(db, "plan", lambda job: run_plan(workspace, job=job))
    assert plan_file.read_bytes() == first
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] == 120
    assert db.execute("SELECT COUNT(DISTINCT spec_id) FROM plan_items").fetchone()[0] == 1
    db.close()


def test_cli_plan_reports_counts_and_skipped_templates(workspace: Workspace) -> None:
    spec = example_spec(workspace)
    text = spec.read_text(encoding="utf-8").replace(
        '"Is it worth renting a car for {{ days }} days around {{ city }}?"',
        '"Is a {{ vehicle }} worth it in {{ city }}?"',
    )
    spec.write_text(text, encoding="utf-8")
    proc = gw(workspace, "plan")
    assert proc.returncode == 0, proc.stderr
    assert "planned 120 prompts for travel_guide v1" in proc.stdout
    assert "template transport.2 skipped: no values for vehicle" in proc.stderr


def test_cli_plan_bad_spec_is_one_line_exit_2(workspace: Workspace) -> None:
    spec = example_spec(workspace)
    spec.write_text(spec.read_text(encoding="utf-8") + "\nextra_key: 1\n", encoding="utf-8")
    proc = gw(workspace, "plan", "--spec", str(spec))
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: {spec}: unknown key 'extra_key' (misspelt?)"
    ]
    assert "Traceback" not in proc.stderr
    assert not (workspace.root / "data" / "interim" / "prompt_plan_v1.jsonl").exists()


def test_cli_dry_run_chain_marks_placeholders_and_accepts_nothing(workspace: Workspace) -> None:
    example_spec(workspace)
    assert gw(workspace, "plan").returncode == 0
    for stage in ("drafts", "critiques", "refine"):
        proc = gw(workspace, "teach", stage, "--dry-run", "--sample", "3")
        assert proc.returncode == 0, proc.stderr
        assert "sample area, dry run: placeholders only" in proc.stdout
    proc = gw(workspace, "teach", "drafts", "--gating", "strict")
    assert proc.returncode == 2 and "--gating applies to `teach refine`" in proc.stderr
    sample = workspace.root / "data" / "processed" / "sample"
    stats = json.loads((sample / "dataset_v1_stats.json").read_text(encoding="utf-8"))
    assert (stats["accepted"], stats["rejected"], stats["dry_run_placeholders"]) == (0, 3, 3)
    assert stats["parse_pass_rate"] == 0 and "no teacher was asked" in stats["note"]
    assert (sample / "dataset_v1.jsonl").read_text(encoding="utf-8") == ""
    assert not (workspace.root / "data" / "processed" / "dataset_v1.jsonl").exists()
