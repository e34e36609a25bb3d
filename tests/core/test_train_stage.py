"""The train stage's rules (core/train/train.py) without mlx: a scripted backend stands in for
the mlx-lm child here, so these run in milliseconds. The real backend is trained for real in
tests/adapters/test_mlx_training.py and tests/test_cli_train.py."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from support.tiny_model import write_tiny_set

from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.exporters import SetNotFound
from graftwork.core.train.events import make_event
from graftwork.core.train.port import Outcome, TrainError
from graftwork.core.train.runs import get_run, run_metrics
from graftwork.core.train.train import train


class ScriptedTrainer:
    """Plays a run: started, two train points, a best val, a last checkpoint, finished."""

    def __init__(self, iters: int = 4, state: str = "done") -> None:
        self.iters, self.state, self.specs = iters, state, []

    def run(
        self,
        spec: dict[str, Any],
        run_dir: Path,
        on_event: Callable[[dict[str, Any]], None],
        should_cancel: Callable[[], bool],
    ) -> Outcome:
        self.specs.append(spec)
        start = 2 if spec["resume"] else 0
        end = spec["total_iters"] or self.iters
        events = [make_event("started", total_iters=end, start_iteration=start)]
        events += [
            make_event("train", iteration=i, loss=2.0 / i) for i in range(start + 1, end + 1)
        ]
        events.append(make_event("val", iteration=end, loss=0.5, best=True))
        last = run_dir / "adapters" / "last"
        last.mkdir(parents=True, exist_ok=True)
        (last / "state.json").write_text(json.dumps({"iteration": end, "total_iters": end}))
        events.append(make_event("finished", state=self.state, error=None))
        for event in events:
            on_event(event)
        return Outcome(state=self.state, events=events, final=events[-1])


def _train(ws: Workspace, trainer: ScriptedTrainer, set_name: str | None, **kw: Any):
    with ws.catalog() as db:
        return run_job(db, "train", lambda job: train(ws, set_name, trainer=trainer, job=job, **kw))


@pytest.fixture
def ws(workspace: Workspace, tmp_path: Path) -> Workspace:
    model = tmp_path / "model"
    model.mkdir()
    workspace.config_path.write_text(f"train:\n  model: {model}\n  iters: 4\n")
    write_tiny_set(workspace.datasets_dir, "tiny", n_train=4, n_valid=2, n_test=1)
    return workspace


def test_a_run_exports_its_data_and_is_recorded(ws: Workspace) -> None:
    trainer = ScriptedTrainer()
    result = _train(ws, trainer, "tiny", overrides={})
    run_id = result.summary["run_id"]
    rdir = ws.runs_dir / run_id
    spec = trainer.specs[0]
    assert spec["data_dir"] == str(rdir / "data") and not spec["resume"]
    chat = [json.loads(x) for x in (rdir / "data" / "train.jsonl").read_text().splitlines()]
    assert len(chat) == 4 and chat[0]["messages"][0]["role"] == "system"
    assert len(spec["labels"]["train"]) == 4 and all(spec["labels"]["train"])
    with ws.catalog() as db:
        run = get_run(db, run_id)
        assert (run["state"], run["last_iteration"], run["best_val_loss"]) == ("done", 4, 0.5)
        assert [m["iteration"] for m in run_metrics(db, run_id) if m["kind"] == "train"] == [
            1,
            2,
            3,
            4,
        ]
    events = [json.loads(x)["type"] for x in (rdir / "metrics.jsonl").read_text().splitlines()]
    assert events[0] == "started" and events[-1] == "finished"


def test_resume_keeps_the_settings_and_the_exported_data(ws: Workspace) -> None:
    trainer = ScriptedTrainer()
    run_id = _train(ws, trainer, "tiny", overrides={}).summary["run_id"]
    with pytest.raises(TrainError, match="only --iters may change"):
        _train(ws, trainer, None, resume=run_id, overrides={"batch_size": 8})
    with pytest.raises(TrainError, match="already reached iteration 4 of 4"):
        _train(ws, trainer, None, resume=run_id, overrides={})
    (ws.datasets_dir / "tiny" / "train.jsonl").unlink()  # a resume never re-reads the set
    result = _train(ws, trainer, None, resume=run_id[:10], overrides={"iters": 6})
    assert trainer.specs[-1]["resume"] and trainer.specs[-1]["total_iters"] == 6
    assert result.summary["run_id"] == run_id and result.summary["last_iteration"] == 6


def test_a_set_that_cannot_be_exported_fails_the_run(ws: Workspace) -> None:
    with pytest.raises(SetNotFound, match="unknown set 'nope'"):
        _train(ws, ScriptedTrainer(), "nope", overrides={})
    (ws.datasets_dir / "tiny" / "valid.jsonl").write_text("not json\n")
    with pytest.raises(TrainError, match=r"valid\.jsonl:1: not an Apple-schema example"):
        _train(ws, ScriptedTrainer(), "tiny", overrides={})
    with ws.catalog() as db:
        (run,) = list(db.query("select state, error from runs"))
    assert run["state"] == "failed" and "valid.jsonl:1" in run["error"]


def test_a_failed_backend_fails_the_stage(ws: Workspace) -> None:
    with pytest.raises(TrainError, match="failed"):
        _train(ws, ScriptedTrainer(state="failed"), "tiny", overrides={})
