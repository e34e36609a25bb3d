"""The trainer port: what the train stage needs from a training backend.

core/train/train.py owns the rules (new run or resume, the run registry, the data export, the
config); a backend only runs one prepared run and reports its events. The mlx-lm backend
(graftwork/adapters/mlx/trainer.py) runs it in a child process; a test can pass any object with
the same ``run`` method.

The spec a backend receives (core has written it to runs/<id>/spec.json, which --resume reads):
  model        local folder or hub repo id (already resolved)
  run_dir      runs/<id>/ (adapters/, child.log, CANCEL live here)
  data_dir     runs/<id>/data/ with train.jsonl, valid.jsonl, test.jsonl (mlx-lm chat lines)
  config       TrainConfig.model_dump()
  total_iters  the iteration to stop at when resuming (None: from config)
  resume       continue from adapters/last/state.json
  drop_long    drop examples over max_seq_length instead of failing (see lengths.py)
  labels       {split: [item id per line]} for messages that name examples
  cancel_file  the backend stops (after a checkpoint) once this file exists

Events are dicts made by core/train/events.py (started, train, val, log, checkpoint, finished).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from graftwork.core.base.errors import GraftworkError


class TrainError(GraftworkError):
    """Training could not start or the backend failed; the run is marked failed."""


@dataclass
class Outcome:
    """How a run ended: done, cancelled or failed (with the error), and every event seen."""

    state: str = "failed"
    error: str | None = None
    events: list[dict[str, Any]] = field(default_factory=list)
    final: dict[str, Any] = field(default_factory=dict)


class Trainer(Protocol):
    def run(
        self,
        spec: dict[str, Any],
        run_dir: Path,
        on_event: Callable[[dict[str, Any]], None],
        should_cancel: Callable[[], bool],
    ) -> Outcome:
        """Train as ``spec`` says, feeding each event to ``on_event`` as it happens, until the
        run ends; ``should_cancel()`` turning true asks for a checkpoint and a stop."""
        ...
