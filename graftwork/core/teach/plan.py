"""What a teach run works on: options, widget selection, resume lookup, widget context."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import sqlite_utils

from graftwork.core.base.errors import GraftworkError, ItemError
from graftwork.core.base.workspace import Workspace
from graftwork.core.budget.tokens import fit_lines
from graftwork.core.prompts.current import current_states
from graftwork.core.sources.uebersicht import load_widget_code
from graftwork.core.teach.templates import WidgetContext

Counter = Callable[[str], int]
UNFINISHED = ("running", "partial", "stopped", "failed", "cancelled")


def char_estimate(text: str) -> int:
    """A rough token count (about 4 characters a token) for callers that need no exact one."""
    return (len(text) + 3) // 4


class TeachUsageError(GraftworkError):
    """Bad options or widget names (exit code 2)."""

    exit_code = 2


@dataclass
class TeachOptions:
    limit: int | None = None
    widgets: list[str] | None = None
    critique: bool = False
    refine: bool = False
    gating: str | None = None  # None: the config's gating
    sample: int | None = None  # N widgets into the sample area
    resume: bool = False
    fresh: bool = False  # ignore finished calls of earlier runs (still never repeats this run's)

    def __post_init__(self) -> None:
        if self.refine:
            self.critique = True  # a refinement answers a critique (seed 002 chain)
        check_at_least_one(self, ("limit", "sample"))
        check_gating(self.gating)

    @property
    def area(self) -> str:
        return "sample" if self.sample else "main"

    def stages(self) -> list[str]:
        return (
            ["draft"]
            + (["critique"] if self.critique else [])
            + (["refine"] if self.refine else [])
        )

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Plan:
    options: TeachOptions
    items: list[str]
    skipped: list[tuple[str, str]] = field(default_factory=list)
    run_id: str | None = None  # set when resuming
    notes: list[str] = field(default_factory=list)


def _accepted(db: sqlite_utils.Database) -> set[str]:
    return {item_id for item_id, state in current_states(db).items() if state == "accepted"}


def check_at_least_one(options: Any, names: tuple[str, ...]) -> None:
    """Options (limit, sample, ...) that must be at least 1 when given: one usage error."""
    for name in names:
        value = getattr(options, name)
        if value is not None and value < 1:
            raise TeachUsageError(f"--{name.replace('_', '-')} must be at least 1, got {value}")


def check_gating(value: str | None) -> None:
    """--gating is lenient, strict or not given (the config's): else one usage error."""
    if value not in (None, "lenient", "strict"):
        raise TeachUsageError(f"--gating must be lenient or strict, got {value!r}")


def named_widgets(rows: list[dict[str, Any]], names: list[str]) -> list[dict[str, Any]]:
    """The rows ``names`` (ids or names) pick, in row order; unknown names are one usage error."""
    by_key: dict[str, dict[str, Any]] = {}
    for row in rows:
        by_key.setdefault(row["id"], row)
        by_key.setdefault(row["name"], row)
    unknown = [w for w in names if w not in by_key]
    if unknown:
        raise TeachUsageError(
            f"unknown widget(s): {', '.join(unknown)} (use ids or names from the catalog)"
        )
    wanted = {by_key[w]["id"] for w in names}
    return [r for r in rows if r["id"] in wanted]


def widget_rows(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every item with its JSX flag and curation decision, in manifest order."""
    return list(
        db.query(
            "SELECT i.id, i.name, a.is_jsx, c.decision FROM items i "
            "LEFT JOIN analysis a ON a.item_id = i.id LEFT JOIN curation c ON c.item_id = i.id "
            "ORDER BY i.manifest_order IS NULL, i.manifest_order, i.id"
        )
    )


def pick_widgets(
    db: sqlite_utils.Database,
    widgets: list[str] | None,
    cap: int | None,
    *,
    done: Callable[[str], bool],
    done_reason: str,
) -> tuple[list[str], list[tuple[str, str]]]:
    """JSX widgets not excluded by curation and not ``done``, in manifest order, at most
    ``cap``; with ``widgets`` only those, and the reason each named one is left out."""
    rows = widget_rows(db)
    skipped: list[tuple[str, str]] = []
    if widgets:
        rows = named_widgets(rows, widgets)
    chosen: list[str] = []
    for row in rows:
        if not row["is_jsx"]:
            if widgets:
                skipped.append((row["id"], "not a JSX widget (or not analysed yet)"))
            continue
        if row["decision"] == "exclude":
            skipped.append((row["id"], "excluded by curation"))
            continue
        if done(row["id"]):
            if widgets:
                skipped.append((row["id"], done_reason))
            continue
        chosen.append(row["id"])
    return (chosen[:cap] if cap else chosen), skipped


def select_items(
    db: sqlite_utils.Database, opts: TeachOptions
) -> tuple[list[str], list[tuple[str, str]]]:
    """JSX widgets without an accepted prompt and not excluded by curation, in manifest order."""
    accepted = _accepted(db) if opts.area == "main" else set()
    return pick_widgets(
        db,
        opts.widgets,
        opts.sample or opts.limit,
        done=accepted.__contains__,
        done_reason="already has an accepted prompt",
    )


def find_resumable(db: sqlite_utils.Database, area: str, dry_run: bool) -> dict[str, Any] | None:
    marks = ", ".join("?" for _ in UNFINISHED)
    rows = list(
        db.query(
            f"SELECT * FROM teach_runs WHERE area = ? AND dry_run = ? AND state IN ({marks}) "
            "ORDER BY created_at DESC, rowid DESC LIMIT 1",
            [area, int(dry_run), *UNFINISHED],
        )
    )
    return rows[0] if rows else None


NOTHING_TO_RESUME = "nothing to resume; starting a new run"


@dataclass
class Resumed:
    """The run --resume continues: its stored options (resume on), items, id and a note."""

    params: dict[str, Any]
    items: list[Any]
    run_id: str
    note: str


def resumed_run(db: sqlite_utils.Database, area: str, dry_run: bool) -> Resumed | None:
    """The newest unfinished run of ``area`` as --resume continues it (None: nothing to resume)."""
    run = find_resumable(db, area, dry_run)
    if run is None:
        return None
    params = json.loads(run["params"]) | {"resume": True}
    note = f"resuming run {run['id']} ({run['state']})"
    return Resumed(params, json.loads(run["items"]), run["id"], note)


def make_plan(db: sqlite_utils.Database, opts: TeachOptions, *, dry_run: bool) -> Plan:
    if opts.resume and (run := resumed_run(db, opts.area, dry_run)):
        return Plan(TeachOptions(**run.params), run.items, run_id=run.run_id, notes=[run.note])
    items, skipped = select_items(db, opts)
    return Plan(opts, items, skipped, notes=[NOTHING_TO_RESUME] if opts.resume else [])


def fit_code(code: str, budget: int, count: Counter) -> tuple[str, int, int, bool]:
    """As many whole lines of ``code`` as fit in ``budget`` tokens, with a marker when cut.

    Returns (quoted, quoted_tokens, total_tokens, truncated).
    """
    quoted, tokens, truncated = fit_lines(code, budget, count)
    if not truncated:
        return code, tokens, tokens, False
    hidden = len(code.splitlines()) - len(quoted.splitlines())
    marker = f"\n// ... {hidden} more line(s) not shown (code budget {budget} tokens)\n"
    return quoted + marker, tokens, count(code), True


def widget_context(
    ws: Workspace, db: sqlite_utils.Database, item_id: str, budget: int, count: Counter
) -> WidgetContext:
    rows = list(
        db.query(
            "SELECT i.id, i.name, i.author, i.description, a.folder, a.refresh_frequency, a.command, "
            "a.styling, a.imports, a.facts FROM items i LEFT JOIN analysis a ON a.item_id = i.id WHERE i.id = ?",
            [item_id],
        )
    )
    if not rows:
        raise ItemError(item_id, "not in the catalog")
    row = rows[0]
    if not row["folder"] and _source(db, item_id) not in ("", "uebersicht"):
        return _example_context(ws, db, row, budget, count)
    if not row["folder"]:
        raise ItemError(item_id, "not analysed yet (run `graftwork analyze`)")
    folder = ws.downloads_dir / row["folder"]
    if not folder.is_dir():
        raise ItemError(
            item_id, f"widget folder downloads/{row['folder']} is missing (run `graftwork ingest`)"
        )
    code = load_widget_code(folder)
    if not code.strip():
        raise ItemError(item_id, f"no .jsx code under downloads/{row['folder']}")
    quoted, quoted_tokens, total, truncated = fit_code(code, budget, count)
    facts: dict[str, Any] = {
        "refresh frequency": row["refresh_frequency"],
        "shell command": row["command"],
        "styling": row["styling"],
        "imports": _loads(row["imports"]),
    }
    extra = _loads(row["facts"])
    if isinstance(extra, dict):
        facts.update(extra)
    return WidgetContext(
        item_id=item_id,
        name=row["name"] or item_id,
        author=row["author"] or "",
        description=row["description"] or "",
        facts=facts,
        code=quoted,
        code_tokens=quoted_tokens,
        code_total_tokens=total,
        truncated=truncated,
    )


def _source(db: sqlite_utils.Database, item_id: str) -> str:
    row = db.execute("SELECT source FROM items WHERE id = ?", [item_id]).fetchone()
    return (row[0] or "") if row else ""


def _example_context(
    ws: Workspace, db: sqlite_utils.Database, row: dict[str, Any], budget: int, count: Counter
) -> WidgetContext:
    """An item of another recipe (an imported record): the teacher sees its answer, read
    through the workspace recipe's ExampleProvider, where a widget shows its code."""
    from graftwork.core.recipes import example_provider

    item_id = row["id"]
    try:
        example = example_provider(ws).example_for(db, item_id, "")
    except (ValueError, OSError) as exc:
        raise ItemError(item_id, str(exc)) from None
    answer = example.assistant
    if not answer.strip():
        raise ItemError(item_id, "its example has no assistant answer")
    quoted, quoted_tokens, total, truncated = fit_code(answer, budget, count)
    return WidgetContext(
        item_id=item_id,
        name=row["name"] or item_id,
        author=row["author"] or "",
        description=row["description"] or "",
        facts={},
        code=quoted,
        code_tokens=quoted_tokens,
        code_total_tokens=total,
        truncated=truncated,
    )


def _loads(value: str | None) -> Any:
    if not value:
        return None
    try:
        return json.loads(value)
    except ValueError:
        return value


def message_tokens(messages: list[dict[str, str]], count: Counter) -> int:
    """Chat tokens: content plus the usual few tokens of framing per message."""
    return sum(count(m["content"]) + 4 for m in messages) + 3
