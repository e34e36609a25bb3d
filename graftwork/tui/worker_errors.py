"""Worker failures become notifications (Worker.StateChanged does not bubble, so every node
that starts workers forwards its own here). The job log already holds a stage's error.

What the user reads is said in their words: the worker's label (every `@work` in graftwork/tui
names one, a test checks it), never a method name such as `_teacher`, and the error's one line
from `errors.explain` (never a bare exception class name)."""

from __future__ import annotations

import re

from textual.dom import DOMNode
from textual.worker import Worker, WorkerState

from graftwork.core.base.errors import explain
from graftwork.core.base.jobs import Cancelled

_IDENTIFIER = re.compile(r"_*[A-Za-z0-9_]+")  # a function's name, not a label


def user_message(error: BaseException, label: str = "") -> str:
    """One line for the user: "<label>: <what went wrong>" (no label when it is internal)."""
    line = explain(error).line
    if not label or _IDENTIFIER.fullmatch(label):
        return line
    return f"{label}: {line}"


def report_worker_error(node: DOMNode, event: Worker.StateChanged) -> None:
    if event.state != WorkerState.ERROR:
        return
    error = event.worker.error
    if error is None or isinstance(error, Cancelled):
        return
    node.notify(user_message(error, event.worker.name), severity="error", markup=False, timeout=8)
