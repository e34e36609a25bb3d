"""Worker failures become notifications (Worker.StateChanged does not bubble, so every node
that starts workers forwards its own here). The job log already holds a stage's error."""

from __future__ import annotations

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.jobs import Cancelled


def report_worker_error(node: DOMNode, event: Worker.StateChanged) -> None:
    if event.state != WorkerState.ERROR:
        return
    error = event.worker.error
    if isinstance(error, Cancelled):
        return
    name = event.worker.name or "work"
    message = (
        str(error) if isinstance(error, GraftworkError) else f"{type(error).__name__}: {error}"
    )
    node.notify(f"{name}: {message}", severity="error", markup=False, timeout=8)
