"""What the workstation shows of a recipe's items: the contract between a recipe and the
recipe-aware items pane (graftwork/tui). UI-free: plain rows, text sections and counts.

A recipe declares ``Recipe.view = "module:factory"``; ``factory(ws)`` returns an object with
the ``RecipeView`` methods below. Every method takes the calling thread's own catalog
connection (the workstation calls them from worker threads, never on the UI thread).

- ``rows(db)``: one dict per item, keys ``id`` plus every ``Column.key`` the recipe declares
  (values are shown as text; missing keys show as "—"). ``rows(db, ids=[...])`` returns only
  those items (the live catalog refreshes changed items without reading everything).
- ``detail(db, item_id)``: the item's sections, top to bottom (the example's user and
  assistant turns, the source's own facts, side-by-side texts as ``Section.group``).
- ``dashboard(db)``: (phase, counts) lines in pipeline order, the recipe's progress.
- ``actions``: keys the items pane offers on the selected item (accept/reject by hand, ...);
  ``run(ws, item_id)`` does the change through core and returns a one-line message.
- ``filters``: quick filters (label, row predicate) shown as the pane's filter choices.

Optional (the pane checks with ``getattr``):

- ``columns``: a tuple of ``recipes.Column`` shown instead of ``Recipe.columns`` (a view that
  serves several recipes, such as the basic view, brings its own).
- ``changed(db, marks) -> (ids | None, marks)``: which items' rows may have changed since
  ``marks`` (``None`` as ids: reload every row; ``marks`` is None on the first call, which
  returns ``([], marks)``). Without it the pane follows the core tables (items, prompt
  revisions, curation, budget; ``tui/data.changed_items``): a view whose rows read its own
  tables (a teacher's answers, a gate) implements it, or stamps ``items.updated_at``.

Keys: the items pane uses ``/ f s r d escape``, the screen ``z < >`` and the digits; an action's key must be
another one (its binding id, not its key, is what graftwork.yaml's keymap remaps).
Values: ``int``/``float`` are right-aligned and sort as numbers, ``None`` and ``""`` show
as "—"; a row may carry keys that are not columns (quick filters and the detail use them).
Helpers for views (curation actions and filters, example sections, one-line previews, the
budget and curation columns): ``recipes/view_parts.py``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol


@dataclass(frozen=True)
class Section:
    title: str
    text: str
    syntax: str | None = None  # "markdown", "json", "jsx", ... (None: plain text)
    group: str | None = None  # sections sharing a group are shown side by side


@dataclass(frozen=True)
class ItemAction:
    id: str  # binding id (remappable in graftwork.yaml's keymap)
    key: str
    label: str
    run: Callable[[Any, str], str]  # (workspace, item_id) -> message for the status line


@dataclass(frozen=True)
class QuickFilter:
    label: str
    keep: Callable[[dict[str, Any]], bool]


class RecipeView(Protocol):
    actions: tuple[ItemAction, ...]
    filters: tuple[QuickFilter, ...]

    def rows(self, db: Any, ids: list[str] | None = None) -> list[dict[str, Any]]: ...

    def detail(self, db: Any, item_id: str) -> list[Section]: ...

    def dashboard(self, db: Any) -> list[tuple[str, str]]: ...
