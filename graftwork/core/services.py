"""The facade the workstation (TUI) receives: a dataclass of callables built in the composition
root (`graftwork.wiring.build_services`). The TUI never imports adapters or stage modules
itself; it calls these from worker threads, each of which opens its own catalog connection.

Stages are started by name through `run_stage` (the registry in graftwork.core.stage_list, as
the CLI does), so a stage records the same job kind and has the same side effects from either
interface. Per-item callables from core modules are `Lazy`: imported on first use, so the app
starts fast.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from graftwork.core.base.errors import ItemError
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import Example


class TokenCounter(Protocol):
    def count(self, example: Example) -> Any:  # -> TokenCount(total, parts)
        ...


class Lazy:
    """A callable resolved by import path on first call.

    ``ws`` prepends the workspace to the call (stages are `fn(ws, ..., job=job)`).
    """

    def __init__(self, module: str, attr: str, ws: Workspace | None = None) -> None:
        self.module, self.attr, self.ws = module, attr, ws
        self._fn: Callable[..., Any] | None = None

    def resolve(self) -> Callable[..., Any]:
        if self._fn is None:
            self._fn = getattr(importlib.import_module(self.module), self.attr)
        return self._fn

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        fn = self.resolve()
        return fn(self.ws, *args, **kwargs) if self.ws is not None else fn(*args, **kwargs)


@dataclass
class Services:
    """Everything the app can do. Per-item callables take the calling thread's own ``db``
    connection first."""

    ws: Workspace
    # -- stages: run_stage(name, params, listeners=(), cancel_event=None) -> StageResult, a
    # declared stage run as a Job (call it from a worker thread) ---------------------------
    run_stage: Callable[..., Any]
    # -- per item (with the same side effects as the CLI's: see core/edits.py) ------------
    add_revision: Callable[..., Any]  # (db, item_id, text, *, origin, note=None)
    set_decision: Callable[..., Any]  # (db, item_id, decision, note=None)
    template_draft: Callable[[Any, str], str]  # (db, item_id) -> draft text
    example_for: Callable[[Any, str, str], Example]  # (db, item_id, prompt) -> complete example
    token_counter: Callable[[], TokenCounter]  # cached; call from a worker (loading is slow)
    # -- teacher (None: the pane hides the key; without accept, it stores the draft itself) --
    teacher_draft: Callable[[str], Any] | None = None  # (item_id) -> {"text": ..., ...} or str
    accept_teacher_draft: Callable[[str, Any], Any] | None = None  # (item_id, draft) -> revision
    # calls, tokens and cost of the `teach` stage, shown before it runs (None: no teacher)
    teach_estimate: Callable[..., dict[str, Any]] | None = None
    # the same for `teach.categories` (uebersicht: one category per widget)
    teach_categories_estimate: Callable[..., dict[str, Any]] | None = None


# ---- examples -----------------------------------------------------------------------------


def _folder(db: Any, item_id: str) -> str:
    rows = list(db.query("select folder from analysis where item_id = ?", [item_id]))
    return rows[0]["folder"] if rows and rows[0]["folder"] else ""


def item_folder(ws: Workspace, db: Any, item_id: str) -> Any:
    """The widget folder of an item: analysis.folder (relative to downloads/) else downloads/<id>."""
    return ws.downloads_dir / (_folder(db, item_id) or item_id)


def example_builder(ws: Workspace) -> Callable[[Any, str, str], Example]:
    """Builds the complete example exactly as build writes it, through the workspace recipe's
    ExampleProvider (for widgets: system + tool + user + code)."""
    from graftwork.core.recipes import example_provider

    provider = cached(lambda: example_provider(ws))

    def example_for(db: Any, item_id: str, prompt: str) -> Example:
        try:  # build's own provider, so the gauge counts exactly what build writes
            return provider().example_for(db, item_id, prompt)
        except (ValueError, OSError) as exc:
            raise ItemError(item_id, str(exc)) from None

    return example_for


def cached(factory: Callable[[], Any]) -> Callable[[], Any]:
    """Call ``factory`` once (thread-safe) and keep the result (tokenizers load slowly)."""
    lock = threading.Lock()
    box: list[Any] = []

    def get() -> Any:
        with lock:
            if not box:
                box.append(factory())
            return box[0]

    return get


__all__ = ["Lazy", "Services", "TokenCounter", "cached", "example_builder", "item_folder"]
