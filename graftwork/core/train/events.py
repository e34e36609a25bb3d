"""The JSON-lines events the training child writes and the parent reads (one object a line).

Every event has ``type`` and ``ts`` (unix seconds). Types and their fields:
- ``started``: total_iters, start_iteration, trainable_params, n_train, n_valid
- ``train``: iteration, loss, learning_rate, it_per_sec, tokens_per_sec, trained_tokens, peak_memory_gb
- ``val``: iteration, loss, val_time, best (bool: this is the new best adapter)
- ``checkpoint``: iteration, path (last checkpoint folder), reason (save|cancel|end)
- ``log``: level, message
- ``finished``: state (done|cancelled|failed), iteration, best_iteration, best_val_loss, error;
  a cancelled run's ``iteration`` is where a resume continues; ``checkpoint``: "written" (a
  checkpoint at a safe point) or "kept" (stopped without one: the last one stands);
  ``stopped_by`` (SIGTERM|SIGKILL) when the parent had to signal it (adapters/mlx/trainer.py)
The same objects (plus ``run_id``) are appended to runs/<run-id>/metrics.jsonl.
"""

from __future__ import annotations

import json
import time
from typing import Any

EVENT_TYPES = frozenset({"started", "train", "val", "checkpoint", "log", "finished"})


def make_event(type_: str, **fields: Any) -> dict[str, Any]:
    if type_ not in EVENT_TYPES:
        raise ValueError(f"unknown training event type {type_!r}")
    return {"type": type_, "ts": round(time.time(), 3), **fields}


def encode(event: dict[str, Any]) -> str:
    return json.dumps(event, ensure_ascii=False, allow_nan=False, default=str)


def decode(line: str) -> dict[str, Any] | None:
    """One event, or None for a line that is not one (stray output of a library)."""
    line = line.strip()
    if not line.startswith("{"):
        return None
    try:
        event = json.loads(line)
    except json.JSONDecodeError:
        return None
    if not isinstance(event, dict) or event.get("type") not in EVENT_TYPES:
        return None
    return event
