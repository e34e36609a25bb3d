"""`graftwork train / runs / fuse` through the real CLI (subprocesses, real training)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from support import tiny_model as tiny
from support.cli import run_cli

from graftwork.core.base.errors import ConfigError
from graftwork.core.base.workspace import Workspace
from graftwork.core.train.config import TrainConfig, load_train_config

tiny_model_dir = tiny.tiny_model_dir  # the shared session fixture, made visible here
write_tiny_set = tiny.write_tiny_set

FAST_YAML = """\
train:
  model: {model}
  learning_rate: 0.001
  steps_per_report: 2
  steps_per_eval: 10
  val_batches: 2
  lora: {{num_layers: -1}}
"""


def cli(ws: Workspace, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, ws=ws, timeout=timeout)


def test_misspelt_train_key_is_an_error(workspace: Workspace) -> None:
    workspace.config_path.write_text("train:\n  learning_rat: 0.001\n")
    with pytest.raises(ConfigError, match="unknown key 'learning_rat'"):
        load_train_config(workspace)
    proc = cli(workspace, "train", "--set", "x")
    assert proc.returncode == 2 and "learning_rat" in proc.stderr
    workspace.config_path.write_text("train:\n  lora: {rnk: 4}\n")
    with pytest.raises(ConfigError, match=r"unknown key 'lora\.rnk'"):
        load_train_config(workspace)


def test_config_layers_and_flags(workspace: Workspace) -> None:
    workspace.config_path.write_text("train:\n  model: some/model\n  epochs: 2\n  batch_size: 2\n")
    cfg = load_train_config(workspace)
    assert cfg.model == "some/model" and cfg.max_seq_length == 4095
    assert cfg.total_iters(n_train=10) == 10  # 2 epochs of 10 examples at batch 2
    cfg = load_train_config(workspace, {"iters": 7, "learning_rate": 3e-4, "batch_size": None})
    assert (cfg.iters, cfg.epochs, cfg.learning_rate, cfg.batch_size) == (7, None, 3e-4, 2)
    with pytest.raises(ConfigError, match="batch_size"):
        load_train_config(workspace, {"batch_size": 0})
    with pytest.raises(Exception, match="iters or epochs"):
        TrainConfig(model="m", iters=None, epochs=None)


def test_usage_and_missing_set_errors(workspace: Workspace) -> None:
    assert "no runs yet" in cli(workspace, "runs").stdout
    proc = cli(workspace, "train")
    assert proc.returncode == 2 and "--set NAME" in proc.stderr
    workspace.config_path.write_text("train:\n  model: /nonexistent/model\n")
    proc = cli(workspace, "train", "--set", "nope")
    assert proc.returncode != 0 and "no such folder" in proc.stderr
    proc = cli(workspace, "train", "--set", "nope", "--model", str(workspace.root))
    assert proc.returncode != 0 and "unknown set" in proc.stderr
    bad = workspace.datasets_dir / "bad"
    bad.mkdir()
    (bad / "train.jsonl").write_text('[{"role": "user", "content": "no system message"}]\n')
    proc = cli(workspace, "train", "--set", "bad", "--model", str(workspace.root))
    assert proc.returncode != 0 and "train.jsonl:1: not an Apple-schema example" in proc.stderr
    assert json.loads(cli(workspace, "runs", "--json").stdout)[0]["state"] == "failed"
    proc = cli(workspace, "fuse", "--run", "nothing")
    assert proc.returncode == 2 and "no run 'nothing'" in proc.stderr


@pytest.mark.mlx
def test_train_runs_fuse(workspace: Workspace, tiny_model_dir: Path) -> None:
    write_tiny_set(workspace.datasets_dir, "tiny")
    workspace.config_path.write_text(FAST_YAML.format(model=tiny_model_dir))
    proc = cli(workspace, "train", "--set", "tiny", "--iters", "6", "--batch-size", "4")
    assert proc.returncode == 0, proc.stderr
    assert "done: iteration 6/6" in proc.stdout and "loss" in proc.stderr
    runs = json.loads(cli(workspace, "runs", "--json").stdout)
    assert len(runs) == 1 and runs[0]["state"] == "done" and runs[0]["config"]["batch_size"] == 4
    listing = cli(workspace, "runs").stdout
    assert runs[0]["id"] in listing and "6/6" in listing

    out = workspace.root / "fused"
    proc = cli(workspace, "fuse", "--run", runs[0]["id"], "--last", "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    check = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from mlx_lm import load; m, t = load(sys.argv[1]); "
            "print(len(m.layers), 'lora_a' in str(m.parameters().keys()))",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert check.stdout.split() == ["2", "False"], check.stderr  # a plain model: LoRA fused in
    proc = cli(workspace, "fuse", "--run", runs[0]["id"], "--last", "--out", str(out))
    assert proc.returncode != 0 and "not empty" in proc.stderr


@pytest.mark.mlx
def test_ctrl_c_checkpoints_and_marks_cancelled(workspace: Workspace, tiny_model_dir: Path) -> None:
    write_tiny_set(workspace.datasets_dir, "tiny")
    workspace.config_path.write_text(FAST_YAML.format(model=tiny_model_dir))
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "graftwork",
            "-w",
            str(workspace.root),
            "train",
            "--set",
            "tiny",
            "--iters",
            "1000",
        ],
        # wait for the next batch whatever the load (by default a step over 0.8 s is not
        # waited for: the run keeps its last checkpoint; tests/adapters/test_mlx_cancel.py)
        env={**os.environ, "GRAFTWORK_CANCEL_GRACE": "120"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    tiny.wait_for_training(workspace.runs_dir)
    proc.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    assert "cancelled" in out and "graftwork train --resume" in out
    runs = json.loads(cli(workspace, "runs", "--json").stdout)
    assert runs[0]["state"] == "cancelled"
    state = json.loads(
        (workspace.runs_dir / runs[0]["id"] / "adapters" / "last" / "state.json").read_text()
    )
    assert state["iteration"] == runs[0]["last_iteration"] > 0


def test_config_file_replaces_defaults_and_events_decode(
    workspace: Workspace, tmp_path: Path
) -> None:
    from graftwork.core.train.config import load_train_config
    from graftwork.core.train.events import decode, encode, make_event

    f = tmp_path / "my-train.yaml"
    f.write_text("model: a/b\niters: 5\nlora: {rank: 4}\n")
    cfg = load_train_config(workspace, {"batch_size": 2}, defaults_file=f)
    assert (cfg.model, cfg.iters, cfg.lora.rank, cfg.batch_size) == ("a/b", 5, 4, 2)
    f.write_text("model: a/b\nepochs: 2\n")
    cfg = load_train_config(workspace, {"iters": 9}, defaults_file=f)
    assert (cfg.iters, cfg.epochs) == (
        9,
        None,
    )  # --iters wins over the file's epochs, as without --config
    f.write_text("model: a/b\niter: 5\n")
    with pytest.raises(ConfigError, match=r"my-train\.yaml: unknown key 'iter'"):
        load_train_config(workspace, {}, defaults_file=f)

    event = make_event("train", iteration=3, loss=1.5)
    assert decode(encode(event)) == event
    assert decode("\x1b[2K  10  1.234 ▼") is None and decode('{"type": "nope"}') is None
    with pytest.raises(ValueError):
        make_event("bogus")


def test_run_records_prefix_lookup_and_metrics(workspace: Workspace) -> None:
    from graftwork.core.train import runs

    db = workspace.catalog()
    runs.create_run(
        db, id="20260101-000000-a-1111", set_name="a", config={"iters": 3}, total_iters=3
    )
    runs.create_run(
        db, id="20260101-000000-a-2222", set_name="a", config={"iters": 3}, total_iters=3
    )
    with pytest.raises(runs.RunNotFound, match="ambiguous"):
        runs.get_run(db, "20260101-000000-a")
    run_id = "20260101-000000-a-1111"
    assert runs.get_run(db, "20260101-000000-a-1")["config"] == {"iters": 3}
    runs.record_event(
        db,
        run_id,
        {
            "type": "train",
            "iteration": 2,
            "loss": 1.5,
            "learning_rate": 1e-3,
            "it_per_sec": 3.0,
            "tokens_per_sec": 90.0,
            "peak_memory_gb": 0.1,
        },
    )
    runs.record_event(
        db, run_id, {"type": "val", "iteration": 2, "loss": float("nan"), "best": False}
    )
    runs.record_event(db, run_id, {"type": "val", "iteration": 3, "loss": 1.2, "best": True})
    run = runs.get_run(db, run_id)
    assert (run["last_iteration"], run["best_iteration"], run["best_val_loss"]) == (2, 3, 1.2)
    assert [(m["kind"], m["iteration"], m["loss"]) for m in runs.run_metrics(db, run_id)] == [
        ("train", 2, 1.5),
        ("val", 2, None),
        ("val", 3, 1.2),
    ]
    assert [r["id"] for r in runs.list_runs(db, "a")] == ["20260101-000000-a-2222", run_id]
    assert runs.duration_seconds(run) is not None
    db.close()
