"""Command lines of Apple's adapter toolkit, settings, adapter-name rule, and the train stage
run against our fake toolkit (tests/support/fake_apple_toolkit: Apple's cannot run here)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
from support.review_world import make_set

from graftwork.adapters.apple_runner import run_command
from graftwork.core.apple.toolkit import (
    AppleToolkitError,
    ToolkitFailed,
    apple_train_stage,
    check_adapter_name,
    default_precision,
    load_apple,
    toolkit_commands,
)
from graftwork.core.base.errors import ConfigError
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace

FAKE_TOOLKIT = Path(__file__).resolve().parents[1] / "support" / "fake_apple_toolkit"


def _configure(ws: Workspace, **apple: object) -> None:
    ws.config_path.write_text(yaml.safe_dump({"train": {"apple": apple}}), encoding="utf-8")


def test_train_and_export_command_lines_have_the_exact_flags(workspace: Workspace) -> None:
    make_set(workspace, "widgets_v1")
    _configure(
        workspace,
        toolkit_dir="/opt/toolkit",
        epochs=3,
        learning_rate=1e-4,
        batch_size=2,
        precision="f16-mixed",
        python="/opt/py311/bin/python",
    )
    cfg = load_apple(workspace)
    out = workspace.runs_dir / "apple-x"
    train, export = toolkit_commands(workspace, "widgets_v1", cfg, out)
    set_dir = workspace.datasets_dir / "widgets_v1"
    assert train.argv == [
        "/opt/py311/bin/python",
        "-m",
        "examples.train_adapter",
        "--train-data",
        str(set_dir / "train.jsonl"),
        "--eval-data",
        str(set_dir / "valid.jsonl"),
        "--epochs",
        "3",
        "--learning-rate",
        "0.0001",
        "--batch-size",
        "2",
        "--max-sequence-length",
        "4095",
        "--precision",
        "f16-mixed",
        "--checkpoint-dir",
        f"{out / 'checkpoints'}/",
    ]
    assert export.argv == [
        "/opt/py311/bin/python",
        "-m",
        "export.export_fmadapter",
        "--adapter-name",
        "widgets_v1",
        "--checkpoint",
        str(out / "checkpoints" / "adapter-final.pt"),
        "--output-dir",
        str(out / "export"),
    ]
    assert train.shell().startswith(
        "cd /opt/toolkit && /opt/py311/bin/python -m examples.train_adapter "
    )


def test_defaults_precision_per_platform_and_flag_overrides(workspace: Workspace) -> None:
    cfg = load_apple(workspace, {"epochs": 7, "batch_size": None})
    assert (cfg.epochs, cfg.batch_size, cfg.learning_rate, cfg.max_sequence_length) == (
        7,
        1,
        1e-4,
        4095,
    )
    assert default_precision("Darwin") == "f16-mixed" and default_precision("Linux") == "bf16-mixed"


def test_bad_settings_are_config_errors(workspace: Workspace) -> None:
    _configure(workspace, epoch=3)
    with pytest.raises(ConfigError, match="unknown key 'epoch'"):
        load_apple(workspace)
    _configure(workspace, precision="bf16")
    with pytest.raises(ConfigError, match="pure bf16"):
        load_apple(workspace)
    _configure(workspace, max_sequence_length=8192)
    with pytest.raises(ConfigError, match="max_sequence_length"):
        load_apple(workspace)


def test_adapter_name_must_match_word_characters(workspace: Workspace) -> None:
    assert check_adapter_name("widgets_v1") == "widgets_v1"
    with pytest.raises(
        AppleToolkitError, match=r"'widgets-v1' is not allowed.*\^\\w\+\$.*Try 'widgets_v1'"
    ):
        check_adapter_name("widgets-v1")
    make_set(workspace, "widgets-v1")  # a hyphenated set needs an explicit adapter name
    with pytest.raises(AppleToolkitError, match="no hyphens"):
        toolkit_commands(workspace, "widgets-v1", load_apple(workspace), workspace.runs_dir / "a")
    cmds = toolkit_commands(
        workspace,
        "widgets-v1",
        load_apple(workspace, {"adapter_name": "widgets"}),
        workspace.runs_dir / "a",
    )
    assert cmds[1].argv[cmds[1].argv.index("--adapter-name") + 1] == "widgets"


def test_unbuilt_set_and_missing_toolkit_are_clear(workspace: Workspace, tmp_path: Path) -> None:
    with pytest.raises(
        AppleToolkitError, match=r"set 'nope' is not built.*graftwork build --set nope"
    ):
        toolkit_commands(workspace, "nope", load_apple(workspace), tmp_path)
    make_set(workspace)
    db = workspace.catalog()
    with pytest.raises(AppleToolkitError, match="no Apple toolkit configured"):
        run_job(
            db,
            "apple-train",
            lambda job: apple_train_stage(
                workspace, "widgets", load_apple(workspace), job, run_command
            ),
        )
    with pytest.raises(AppleToolkitError, match="does not look like Apple's adapter toolkit"):
        cfg = load_apple(workspace, {"toolkit_dir": str(tmp_path)})
        run_job(
            db,
            "apple-train",
            lambda job: apple_train_stage(workspace, "widgets", cfg, job, run_command),
        )
    db.close()


def test_train_stage_streams_fake_toolkit_output_into_a_job(workspace: Workspace) -> None:
    make_set(workspace)
    cfg = load_apple(
        workspace,
        {
            "toolkit_dir": str(FAKE_TOOLKIT),
            "python": sys.executable,
            "epochs": 2,
            "adapter_name": "widgets",
        },
    )
    db = workspace.catalog()
    result = run_job(
        db,
        "apple-train",
        lambda job: apple_train_stage(workspace, "widgets", cfg, job, run_command),
    )
    job = next(db.query("select * from jobs where kind = 'apple-train'"))
    logs = [
        r["message"]
        for r in db.query("select message from job_logs where job_id = ? order by id", [job["id"]])
    ]
    db.close()
    assert job["state"] == "done" and (job["done"], job["total"]) == (2, 2)
    assert any(m.startswith("Loaded 2 training samples") for m in logs)
    assert any(m.startswith("Epoch 2/2:") for m in logs)  # a redrawn tqdm bar arrives as a line
    assert "Epoch 2 eval loss: 0.7500" in logs
    out = Path(result.summary["out_dir"])
    assert (out / "checkpoints" / "adapter-final.pt").is_file()
    assert (out / "export" / "widgets.fmadapter" / "metadata.json").is_file()
    assert "[train] Epoch 1 eval loss: 1.5000" in (out / "toolkit.log").read_text()


def test_toolkit_exit_code_fails_the_job(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_set(workspace)
    monkeypatch.setenv("FAKE_TOOLKIT_EXIT", "3")
    cfg = load_apple(
        workspace, {"toolkit_dir": str(FAKE_TOOLKIT), "python": sys.executable, "adapter_name": "w"}
    )
    db = workspace.catalog()
    with pytest.raises(ToolkitFailed) as info:
        run_job(
            db,
            "apple-train",
            lambda job: apple_train_stage(workspace, "widgets", cfg, job, run_command),
        )
    assert info.value.exit_code == 3
    job = next(db.query("select * from jobs where kind = 'apple-train'"))
    logs = [
        r["message"] for r in db.query("select message from job_logs where job_id = ?", [job["id"]])
    ]
    db.close()
    assert job["state"] == "failed" and "exited with code 3" in job["error"]
    assert "RuntimeError: MPS backend out of memory (fake)" in logs


def test_cancel_stops_the_toolkit_and_marks_the_job_cancelled(
    workspace: Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    import threading
    import time

    from graftwork.core.base.jobs import Cancelled

    make_set(workspace)
    monkeypatch.setenv("FAKE_TOOLKIT_SLEEP", "600")  # would take an hour if not stopped
    cfg = load_apple(
        workspace, {"toolkit_dir": str(FAKE_TOOLKIT), "python": sys.executable, "adapter_name": "w"}
    )
    cancel = threading.Event()
    seen: list[str] = []

    def listen(event) -> None:
        if event.type == "log":
            seen.append(event.message)
            if event.message.startswith("Loaded"):
                cancel.set()  # as the TUI's cancel does, from the first real output on

    db = workspace.catalog()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        run_job(
            db,
            "apple-train",
            lambda job: apple_train_stage(workspace, "widgets", cfg, job, run_command),
            listeners=[listen],
            cancel_event=cancel,
        )
    # stopped, not waited for: far below one 600 s step (a bound for a loaded machine)
    assert time.monotonic() - started < 120
    job = next(db.query("select * from jobs where kind = 'apple-train'"))
    db.close()
    assert job["state"] == "cancelled"
    assert not any("export_fmadapter" in m for m in seen)  # export never started
