"""Kill-and-resume, per stage: SIGKILL at a seeded random moment of the stage's work in a real
subprocess, then the same command again; the rerun's result must equal an uninterrupted run's
(catalog rows that matter, files byte for byte, each finished teacher call paid once), with no
job left `running`, no temp file and an intact catalog. Harness and stage definitions:
tests/support/kills.py. Ingest, build and train have their own kill tests (test_ingest.py,
test_stale_and_inputs.py, test_train_interrupted.py); bench/bench_robustness.py kills every
stage many times."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest
from support import review_world
from support.fake_openai_server import FakeOpenAIServer
from support.kills import STAGES, Context, kill_and_resume, reference, two_teach_runs

review_model_dir = review_world.review_model_dir  # session fixtures: the tiny model + adapter
tiny_adapter_dir = review_world.tiny_adapter_dir


@pytest.fixture(scope="module")
def teacher() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer(latency=0.03) as server:
        yield server


@pytest.mark.parametrize(("stage", "seed"), [("budget", 1), ("prompts import", 2), ("teach", 3)])
def test_a_killed_stage_reruns_to_the_uninterrupted_result(
    stage: str, seed: int, tmp_path: Path, teacher: FakeOpenAIServer
) -> None:
    ctx = Context(teacher_url=teacher.base_url, widgets=40)
    ref = reference(STAGES[stage], tmp_path / "ref", ctx)
    got = kill_and_resume(STAGES[stage], tmp_path / "killed", ctx, ref, random.Random(seed))
    assert got.problems == [], got
    assert got.job_state in ("interrupted", "done", "partial", None), got


@pytest.mark.mlx
@pytest.mark.parametrize("seed", [0, 3])  # late (adapter half) and early (base half)
def test_a_killed_eval_reruns_to_the_uninterrupted_evaluation(
    seed: int, tmp_path: Path, review_model_dir: Path, tiny_adapter_dir: Path
) -> None:
    """`graftwork eval` on the real tiny mlx model, SIGKILLed (with its generation child) at a
    seeded moment: the rerun continues from the recorded generations and stores exactly the
    uninterrupted evaluation (answers, per-example values, loss and metrics), no progress rows
    left, no job running, no temp file."""
    ctx = Context(model_dir=review_model_dir, adapter_dir=tiny_adapter_dir)
    ref = reference(STAGES["eval"], tmp_path / "ref", ctx)
    assert ref.snapshot["pending"] == 0 and len(ref.snapshot["items"]) == 2 * 8
    got = kill_and_resume(STAGES["eval"], tmp_path / "killed", ctx, ref, random.Random(seed))
    assert got.problems == [], got
    assert got.job_state in ("interrupted", "done", None), got


def test_two_teach_runs_at_once_pay_each_call_once(
    tmp_path: Path, teacher: FakeOpenAIServer
) -> None:
    """Two `teach prompts` processes started together on one workspace: the teacher gets one
    request per widget, no more (the second run is refused while the first runs, or finds
    the work done), and every widget gets its prompt."""
    got = two_teach_runs(
        tmp_path / "ws", teacher, Context(teacher_url=teacher.base_url, widgets=20)
    )
    assert got.duplicates == 0 and got.requests == got.widgets, got
    assert got.prompted == got.widgets, got
    assert sorted(got.codes)[0] == 0, got
    for code, err in zip(got.codes, got.errs, strict=True):
        if code:  # the refused one says why, in one line (after the cost preview)
            errors = [ln for ln in err.splitlines() if ln.startswith("error:")]
            assert code == 2 and "Traceback" not in err, err
            assert len(errors) == 1 and "teach is already running" in errors[0], err
