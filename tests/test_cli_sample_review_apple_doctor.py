"""`graftwork sample`, `review`, `apple` and `doctor` end to end, in subprocesses (real exit
codes). Apple's toolkit is our fake (tests/support/fake_apple_toolkit); the rest is real."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from support import review_world
from support.review_world import add_samples, make_run, make_set, sample_rows

from graftwork.core.base.workspace import Workspace

FAKE_TOOLKIT = Path(__file__).resolve().parent / "support" / "fake_apple_toolkit"
review_model_dir = review_world.review_model_dir  # session fixtures
tiny_adapter_dir = review_world.tiny_adapter_dir


def graftwork(ws: Workspace, *args: str, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "HF_HUB_OFFLINE": "1", **env_extra}
    env.pop("GRAFTWORK_WORKSPACE", None)
    return subprocess.run(
        [sys.executable, "-m", "graftwork", "-w", str(ws.root), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- sample + review --------------------------------------------------------------------


@pytest.mark.mlx
def test_sample_then_review_promote_and_export(
    workspace: Workspace, review_model_dir: Path, tiny_adapter_dir: Path
) -> None:
    make_set(workspace)
    run_id = make_run(workspace, "widgets", str(review_model_dir), tiny_adapter_dir)
    out = graftwork(
        workspace,
        "sample",
        "--run",
        run_id[:15],
        "--n",
        "1",
        "--seed",
        "2",
        "--temperature",
        "0.5",
        "--max-tokens",
        "8",
    )
    assert out.returncode == 0, out.stderr
    assert f"stored 1 sample(s) of run {run_id} (test split)" in out.stdout
    (row,) = sample_rows(workspace, run_id)
    assert row["item_id"] == "weather" and row["base_output"] and row["adapter_output"]
    assert (row["seed"], row["temperature"], row["max_tokens"]) == (2, 0.5, 8)

    listed = graftwork(workspace, "review", "list", "--run", run_id)
    assert listed.returncode == 0 and f"{row['id']}" in listed.stdout and "weather" in listed.stdout
    accepted = graftwork(
        workspace, "review", "set", str(row["id"]), "--accept", "--score", "4", "--note", "ok"
    )
    assert accepted.returncode == 0 and f"sample {row['id']}: accept, score 4" in accepted.stdout
    promoted = graftwork(workspace, "review", "promote", "--run", run_id)
    assert promoted.returncode == 0 and f"weather__gen{row['id']}" in promoted.stdout
    report = workspace.root / "report.md"
    exported = graftwork(workspace, "review", "export", "--run", run_id, "--out", str(report))
    assert exported.returncode == 0, exported.stderr
    text = report.read_text()
    assert f"| {run_id} | widgets | 1 | 1 | 0 | 0 | 4.00 (1) | 1 |" in text
    assert "**Verdict:** accept, score 4/5, promoted" in text


def test_review_input_errors_exit_2_with_a_message(workspace: Workspace) -> None:
    make_set(workspace)
    run_id = make_run(workspace, "widgets", "/m")
    sid = add_samples(workspace, run_id, n=1)[0]
    bad_score = graftwork(workspace, "review", "set", str(sid), "--score", "9")
    assert bad_score.returncode == 2 and "9 is not in the range 1<=x<=5" in bad_score.stderr
    both = graftwork(workspace, "review", "set", str(sid), "--accept", "--reject")
    assert both.returncode == 2 and "only one of --accept, --reject and --clear" in both.stderr
    nothing = graftwork(workspace, "review", "set", str(sid))
    assert nothing.returncode == 2 and "give --accept, --reject" in nothing.stderr
    missing = graftwork(workspace, "review", "set", "999", "--accept")
    assert missing.returncode == 2 and "no sample 999" in missing.stderr
    no_run = graftwork(workspace, "sample", "--run", "nope")
    assert no_run.returncode == 2 and "no run 'nope'" in no_run.stderr
    no_adapter = graftwork(workspace, "sample", "--run", run_id)
    assert no_adapter.returncode == 2 and "has no saved adapter" in no_adapter.stderr


# ---- apple ------------------------------------------------------------------------------


def test_apple_command_prints_exact_commands_and_refuses_hyphens(workspace: Workspace) -> None:
    make_set(workspace, "widgets-v1")
    out = graftwork(
        workspace,
        "apple",
        "command",
        "--set",
        "widgets-v1",
        "--adapter-name",
        "widgets_v1",
        "--epochs",
        "3",
        "--precision",
        "f16-mixed",
    )
    assert out.returncode == 0, out.stderr
    lines = [line for line in out.stdout.splitlines() if line.startswith("cd ")]
    train = workspace.datasets_dir / "widgets-v1" / "train.jsonl"
    assert lines[0].startswith(
        f"cd /path/to/apple-toolkit && python -m examples.train_adapter --train-data {train} "
    )
    assert (
        "--epochs 3 --learning-rate 0.0001 --batch-size 1 --max-sequence-length 4095 --precision f16-mixed"
        in lines[0]
    )
    assert "python -m export.export_fmadapter --adapter-name widgets_v1 --checkpoint " in lines[1]
    assert "train.apple.toolkit_dir" in out.stderr
    refused = graftwork(workspace, "apple", "command", "--set", "widgets-v1")
    assert refused.returncode == 2
    assert (
        "adapter name 'widgets-v1' is not allowed" in refused.stderr
        and "'widgets_v1'" in refused.stderr
    )


def test_apple_train_runs_the_fake_toolkit_and_honours_its_exit_code(workspace: Workspace) -> None:
    make_set(workspace)
    no_toolkit = graftwork(workspace, "apple", "train", "--set", "widgets")
    assert no_toolkit.returncode == 2 and "no Apple toolkit configured" in no_toolkit.stderr
    workspace.config_path.write_text(
        yaml.safe_dump(
            {
                "train": {
                    "apple": {
                        "toolkit_dir": str(FAKE_TOOLKIT),
                        "python": sys.executable,
                        "epochs": 2,
                    }
                }
            }
        )
    )
    ok = graftwork(workspace, "apple", "train", "--set", "widgets")
    assert ok.returncode == 0, ok.stderr
    assert "Epoch 2 eval loss: 0.7500" in ok.stdout and "widgets.fmadapter" in ok.stdout
    failed = graftwork(workspace, "apple", "train", "--set", "widgets", FAKE_TOOLKIT_EXIT="3")
    assert failed.returncode == 3
    assert "exited with code 3" in failed.stderr
    db = workspace.catalog()
    states = [
        r["state"]
        for r in db.query("select state from jobs where kind = 'apple.train' order by started_at")
    ]
    db.close()
    assert states == ["done", "failed"]


# ---- doctor -----------------------------------------------------------------------------


def test_doctor_reports_this_machine_and_exits_0(workspace: Workspace) -> None:
    port = _closed_port()
    workspace.config_path.write_text(
        yaml.safe_dump(
            {
                "train": {
                    "model": str(workspace.root / "no-such-model"),
                    "apple": {"toolkit_dir": "/no/toolkit"},
                },
                "teacher": {"base_url": f"http://127.0.0.1:{port}/v1"},
            }
        )
    )
    out = graftwork(workspace, "doctor", "--json")
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    checks = {c["name"]: c for c in data["checks"]}
    assert data["facts"]["backend"] == ("metal" if sys.platform == "darwin" else "cpu")
    assert "on the CPU" in checks["mlx"]["detail"]
    assert data["facts"]["memory_bytes"] > 0 and checks["memory"]["detail"].endswith("GiB")
    assert (
        checks["model"]["status"] == "missing"
        and "no such local folder" in checks["model"]["detail"]
    )
    assert (
        checks["apple toolkit"]["status"] == "missing"
        and "not found at /no/toolkit" in checks["apple toolkit"]["detail"]
    )
    assert checks["teacher"]["status"] == "missing" and "unreachable" in checks["teacher"]["detail"]
    table = graftwork(workspace, "doctor")
    assert table.returncode == 0
    for name in ("platform", "mlx", "memory", "model", "apple toolkit", "teacher"):
        assert name in table.stdout


def test_doctor_never_shows_credentials_of_the_teacher_url() -> None:
    from graftwork.adapters.machine import probe_teacher
    from graftwork.core.doctor import MachineFacts

    facts = MachineFacts(system="Linux", machine="x86_64", python="3")
    probe_teacher(
        facts, {"base_url": f"http://user:s3cret@127.0.0.1:{_closed_port()}/v1?key=s3cret"}
    )
    assert facts.teacher_reachable is False and facts.teacher_url.startswith("http://127.0.0.1:")
    assert "s3cret" not in json.dumps(facts.as_dict())


def test_doctor_sees_a_local_model_and_a_found_toolkit(
    workspace: Workspace, tmp_path: Path
) -> None:
    model = workspace.root / "models" / "tiny"
    model.mkdir(parents=True)
    (model / "config.json").write_text("{}")
    workspace.config_path.write_text(
        yaml.safe_dump(
            {
                "train": {"model": "models/tiny", "apple": {"toolkit_dir": str(FAKE_TOOLKIT)}},
                "teacher": {"base_url": f"http://127.0.0.1:{_closed_port()}/v1"},
            }
        )
    )
    data = json.loads(graftwork(workspace, "doctor", "--json").stdout)
    checks = {c["name"]: c for c in data["checks"]}
    assert checks["model"]["status"] == "ok" and "local folder" in checks["model"]["detail"]
    assert checks["apple toolkit"]["status"] == "ok"


def test_doctor_outside_a_workspace_still_reports(tmp_path: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("GRAFTWORK_WORKSPACE", None)
    out = subprocess.run(
        [sys.executable, "-m", "graftwork", "doctor", "--offline"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
        timeout=120,
    )
    assert out.returncode == 0 and "workspace: (none)" in out.stdout
    assert "not checked (--offline)" in out.stdout
