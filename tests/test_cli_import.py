"""`graftwork import` and the whole pipeline on an import workspace through the real CLI:
import -> curate -> budget -> build -> export (apple, mlx-chat, alpaca) -> train (real mlx on
the tiny offline model) -> sample -> review."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import tiny_model as tiny
from test_cli_train import cli

from graftwork.core.base.workspace import Workspace

tiny_model_dir = tiny.tiny_model_dir  # the shared session fixture, made visible here

CONFIG = """\
recipe: import
project:
  splits: {{train: 0.6, valid: 0.2, test: 0.2}}
train:
  model: {model}
  learning_rate: 0.001
  steps_per_report: 2
  steps_per_eval: 10
  val_batches: 1
  lora: {{num_layers: -1}}
"""

COLORS = ["red", "blue", "green", "gold", "pink", "gray", "teal", "navy", "lime", "plum"]


def test_import_exit_codes_name_file_line(workspace: Workspace, tmp_path: Path) -> None:
    proc = cli(workspace, "import", str(tmp_path / "x.jsonl"))
    assert proc.returncode == 2 and "recipe is 'uebersicht'" in proc.stderr
    workspace.config_path.write_text("recipe: import\n")
    proc = cli(workspace, "import", str(tmp_path / "missing.jsonl"))
    assert proc.returncode == 2 and "no such file" in proc.stderr
    junk = tmp_path / "junk.jsonl"
    junk.write_bytes(b"\x00\x01 binary \xff\n" * 3)
    proc = cli(workspace, "import", str(junk))
    assert proc.returncode == 2 and f"{junk}:1: not UTF-8" in proc.stderr
    assert "nothing could be read" in proc.stderr
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_text(
        '{"instruction": "a", "output": "b"}\n'
        '{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}]}\n'
    )
    proc = cli(workspace, "import", str(mixed))
    assert proc.returncode == 1 and f"{mixed}:2: looks like a chat record" in proc.stderr
    assert "1 new" in proc.stdout
    proc = cli(workspace, "import", str(mixed), "--format", "alpaca")
    assert proc.returncode == 1 and "1 unchanged" in proc.stdout


@pytest.mark.mlx
def test_import_workspace_runs_the_whole_pipeline(
    workspace: Workspace, tiny_model_dir: Path, tmp_path: Path
) -> None:
    workspace.config_path.write_text(CONFIG.format(model=tiny_model_dir))
    src = tmp_path / "widgets.jsonl"
    rows = [
        {
            "instruction": f"Write a {c} clock widget",
            "input": "",
            "output": f"export const color = '{c}';",
            "meta": {"id": f"w-{c}", "color": c},
        }
        for c in COLORS
    ]
    src.write_text("".join(json.dumps(r) + "\n" for r in rows))
    proc = cli(workspace, "import", str(src))
    assert proc.returncode == 0, proc.stderr
    assert "10 new" in proc.stdout

    proc = cli(workspace, "curate", "w-plum", "--exclude", "--note", "off topic")
    assert proc.returncode == 0, proc.stderr
    assert cli(workspace, "budget").returncode == 0
    proc = cli(workspace, "build", "--set", "mine")
    assert proc.returncode == 0, proc.stderr
    manifest = json.loads((workspace.datasets_dir / "mine" / "manifest.json").read_text())
    assert manifest["format"] == "chat" and len(manifest["items"]) == 9
    assert {"id": "w-plum", "reason": "excluded by curation (off topic)"} in manifest["skipped"]

    for fmt in ("apple", "mlx-chat", "alpaca"):
        proc = cli(workspace, "export", "--set", "mine", "--format", fmt)
        assert proc.returncode == 0, (fmt, proc.stderr)
    out = workspace.datasets_dir / "mine" / "export" / "alpaca"
    exported = [
        json.loads(line)
        for split in ("train", "valid", "test")
        if (out / f"{split}.jsonl").is_file()
        for line in (out / f"{split}.jsonl").read_text().splitlines()
    ]
    assert sorted(r["meta"]["id"] for r in exported) == sorted(
        f"w-{c}" for c in COLORS if c != "plum"
    )

    proc = cli(workspace, "train", "--set", "mine", "--iters", "4", "--batch-size", "2")
    assert proc.returncode == 0, proc.stderr
    runs = json.loads(cli(workspace, "runs", "--json").stdout)
    assert runs[0]["state"] == "done"
    proc = cli(workspace, "sample", "--run", runs[0]["id"], "--n", "1", "--max-tokens", "4")
    assert proc.returncode == 0, proc.stderr
    listed = cli(workspace, "review", "list", "--run", runs[0]["id"])
    assert listed.returncode == 0 and "w-" in listed.stdout
