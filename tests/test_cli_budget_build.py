"""`graftwork budget` and `graftwork build` end to end, in a real subprocess (exit codes)."""

from __future__ import annotations

import json
import subprocess

from support.cli import run_cli
from support.widget_rows import add_widget, curate, widget_source


def _run(ws, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, ws=ws, timeout=120)


def _fill(ws) -> None:
    db = ws.catalog()
    for i in range(6):
        add_widget(db, ws, f"w{i}", order=i)
    add_widget(db, ws, "huge", code=widget_source("huge", lines=900), order=10)
    add_widget(db, ws, "draftless", prompt=None, order=11)
    db.close()


def test_budget_prints_summary_and_excluded_widgets(workspace) -> None:
    _fill(workspace)
    out = _run(workspace, "budget")
    assert out.returncode == 0, out.stderr
    strategy = json.loads((workspace.root / "training_data_strategy.json").read_text())
    huge = strategy["strategy"]["huge"]
    assert f"huge: {huge['current_total_tokens']} tokens" in out.stdout
    assert f"over by {huge['over_by']}" in out.stdout
    assert "keep 6, exclude 1 at max 4095 tokens" in out.stdout
    out = _run(workspace, "budget", "--max-tokens", "100000")
    assert "keep 7, exclude 0 at max 100000" in out.stdout
    assert (
        json.loads((workspace.root / "training_data_strategy.json").read_text())[
            "max_sequence_length"
        ]
        == 100000
    )


def test_budget_widgets_only(workspace) -> None:
    _fill(workspace)
    out = _run(workspace, "budget", "--widgets-only", "--max-tokens", "500")
    assert out.returncode == 0, out.stderr
    assert "8 JSX widgets, 1 over 500 tokens" in out.stdout
    assert "chunking:" in out.stdout
    assert (workspace.root / "widget_size_analysis.json").is_file()


def test_build_force_and_item_failure_exit_codes(workspace) -> None:
    _fill(workspace)
    out = _run(workspace, "build", "--set", "v1")
    assert out.returncode == 0, out.stderr
    assert "skipped huge: Exceeds limit (" in out.stdout
    assert "skipped 1 widget(s) without a prompt yet" in out.stdout
    assert (workspace.datasets_dir / "v1" / "train.jsonl").is_file()
    again = _run(workspace, "build", "--set", "v1")
    assert again.returncode == 2
    assert "already exists" in again.stderr and "--force" in again.stderr
    db = workspace.catalog()
    curate(db, "huge", "include")
    db.close()
    forced = _run(workspace, "build", "--set", "v1", "--force")
    assert forced.returncode == 1
    assert "huge: included by curation but over budget:" in forced.stderr
    assert (
        json.loads((workspace.datasets_dir / "v1" / "manifest.json").read_text())["failed"][0]["id"]
        == "huge"
    )


def test_bad_tokenizer_config_is_exit_2_naming_the_path(workspace) -> None:
    missing = workspace.root / "no-model"
    workspace.config_path.write_text(
        f"project:\n  tokenizer: {{kind: hf, model_path: {missing}}}\n"
    )
    out = _run(workspace, "budget")
    assert out.returncode == 2
    assert str(missing) in out.stderr
    out = _run(workspace, "build", "--set", "../evil")
    assert out.returncode == 2 and "not a valid set name" in out.stderr
