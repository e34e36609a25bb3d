"""The `buckets` and `templates` recipes in the workstation (recipes/views.py): each record
with its bucket (task type) or template category, style and separator; the rule results per
record (the rules `graftwork validate` applies: fields, tool_calls; the templates' Alpaca
schema; the budget's token count once `budget` ran); the dashboard of counts against the
spec's targets (as the newest generating run recorded them) and of each rule's passes and
failures.

The records are the import source's items (the stages put them there), read from their
newest example revision: meta.record holds the record's own meta (bucket, task_type or
template_category and tags), meta.alpaca its instruction and input, the assistant turn its
output."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlite_utils

from graftwork.core.base.jobs import newest_summary
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import OWN_META_KEY
from graftwork.core.recipes.views import QuickFilter, Section

_CHUNK = 500
_RECORDS_SQL = """
SELECT e.item_id, e.messages, e.meta, e.origin, e.sha256,
       b.total_tokens, b.max_tokens, b.action, b.reason
FROM import_examples e
JOIN (SELECT item_id, MAX(rev) AS rev FROM import_examples GROUP BY item_id) n
  ON n.item_id = e.item_id AND n.rev = e.rev
JOIN items i ON i.id = e.item_id
LEFT JOIN budget b ON b.item_id = e.item_id
WHERE i.source = 'import' {ids}
ORDER BY COALESCE(i.manifest_order, 1e18), i.id
"""


@dataclass
class _Stored:
    item_id: str
    record: dict[str, Any]  # as the generated file has it
    own: dict[str, Any]  # the record's own meta (bucket, task_type, category, tags) + origin
    budget: dict[str, Any]
    sha256: str  # of the example revision: the rule results are cached under it


def _record(messages: str, decoded: dict[str, Any]) -> dict[str, Any]:
    """The generated record as its file has it (the catalog keeps it as an example)."""
    own = dict(decoded.get(OWN_META_KEY) or {})
    alpaca = decoded.get("alpaca") or {}
    output = next(
        (
            m.get("content") or ""
            for m in reversed(json.loads(messages))
            if m["role"] == "assistant"
        ),
        "",
    )
    rec: dict[str, Any] = {
        "instruction": alpaca.get("instruction", ""),
        "input": alpaca.get("input", ""),
        "output": output,
    }
    own.pop("id", None)  # the catalog's id, not a field of the record
    own.pop("split_key", None)  # the templates' word, kept for build (rules/provider.py)
    if "task_type" in own:
        rec = {"task_type": own["task_type"], **rec}
    else:
        rec["meta"] = own
    return rec


def _records(db: sqlite_utils.Database, ids: Sequence[str] | None) -> list[_Stored]:
    """Every record (or those of ``ids``) in generation order."""
    if not db["import_examples"].exists():
        return []
    if ids is None:
        queries = [(_RECORDS_SQL.format(ids=""), [])]
    else:
        wanted = list(ids)
        queries = [
            (
                _RECORDS_SQL.format(ids=f"AND e.item_id IN ({','.join('?' * len(chunk))})"),
                chunk,
            )
            for chunk in (wanted[s : s + _CHUNK] for s in range(0, len(wanted), _CHUNK))
        ]
    out = []
    for sql, params in queries:
        for row in db.execute(sql, params).fetchall():
            item_id, messages, meta, origin, sha, total, limit, action, reason = row
            decoded = json.loads(meta or "{}")
            own = {**(decoded.get(OWN_META_KEY) or {}), "origin": origin}
            budget = {"total": total, "max": limit, "action": action, "reason": reason}
            out.append(_Stored(item_id, _record(messages, decoded), own, budget, sha))
    return out


def _budget_rule(budget: dict[str, Any]) -> tuple[str, str | None] | None:
    if budget["total"] is None:
        return None  # `budget` has not counted it yet
    if budget["action"] == "exclude":
        return "budget", budget["reason"] or f"{budget['total']} > {budget['max']} tokens"
    return "budget", None


def _rules_text(results: list[tuple[str, str | None]]) -> str:
    failed = [rule for rule, cause in results if cause]
    return "fails " + ", ".join(failed) if failed else "ok"


def _rules_section(results: list[tuple[str, str | None]], budget: dict[str, Any]) -> Section:
    lines = [
        f"{'FAIL' if cause else 'pass'}  {rule}{f': {cause}' if cause else ''}"
        for rule, cause in results
    ]
    if budget["total"] is not None:
        lines.append(f"      tokens: {budget['total']} of {budget['max']} (budget)")
    else:
        lines.append("      tokens: not counted yet (run `graftwork budget`)")
    return Section("rules", "\n".join(lines))


class _RecordsView:
    """What the two recipes share: records from the catalog, rules per record, filters."""

    kind = ""  # the generating stage (its job summary holds the targets)
    actions: tuple = ()
    filters = (
        QuickFilter("rule failed", lambda row: row["rules"] != "ok"),
        QuickFilter("over budget", lambda row: "budget" in row["rules"]),
    )

    def __init__(self, ws: Workspace) -> None:
        self.ws = ws
        # Rule results per example revision (sha256), for the checker that made them: the
        # live catalog's refreshes and the dashboard re-read rows without re-checking.
        self._cache: dict[str, list[tuple[str, str | None]]] = {}
        self._cache_of: object = None

    def _checker(self, db: Any) -> Callable[[dict[str, Any]], list[tuple[str, str | None]]]:
        """The record rules, prepared once per read (rec -> [(rule, cause or None)])."""
        raise NotImplementedError

    def _row(self, item_id: str, rec: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def _checked(
        self, db: sqlite_utils.Database, ids: Sequence[str] | None
    ) -> list[tuple[dict[str, Any], list[tuple[str, str | None]]]]:
        """(row, rule results) per record."""
        out = []
        check = self._checker(db)
        if check != self._cache_of:  # bound methods compare equal, new lambdas do not
            self._cache, self._cache_of = {}, check
        for stored in _records(db, ids):
            found = self._cache.get(stored.sha256)
            if found is None:
                found = self._cache[stored.sha256] = check(stored.record)
            rule = _budget_rule(stored.budget)
            results = [*found, rule] if rule else found
            row = self._row(stored.item_id, stored.record, stored.own)
            row["rules"] = _rules_text(results)
            out.append((row, results))
        return out

    def rows(self, db: sqlite_utils.Database, ids: Sequence[str] | None = None) -> list[dict]:
        return [row for row, _results in self._checked(db, ids)]

    def detail(self, db: sqlite_utils.Database, item_id: str) -> list[Section]:
        found = _records(db, [item_id])
        if not found:
            return [Section("not generated", f"{item_id} is not a record of this workspace")]
        stored = found[0]
        rec, own, budget = stored.record, dict(stored.own), stored.budget
        results = self._checker(db)(rec)
        rule = _budget_rule(budget)
        where = own.pop("origin", "")
        facts = [f"id: {stored.item_id}", *(f"{k}: {v}" for k, v in own.items() if k != "id")]
        facts.append(f"file: {where}")
        return [
            Section("instruction", rec["instruction"]),
            Section("input", rec["input"] or "(empty)"),
            Section("output", *_pretty(rec["output"])),
            _rules_section([*results, rule] if rule else results, budget),
            Section("record", "\n".join(facts)),
        ]

    def _summary_lines(
        self,
        checked: list[tuple[dict[str, Any], list[tuple[str, str | None]]]],
        key: str,
        targets: dict[str, int | None],
    ) -> list[tuple[str, str]]:
        """Records per ``key`` against the targets, then each rule's passes and failures."""
        have: dict[str, int] = {}
        tally: dict[str, list[int]] = {}
        for row, results in checked:
            have[row[key]] = have.get(row[key], 0) + 1
            for rule, cause in results:
                tally.setdefault(rule, [0, 0])[1 if cause else 0] += 1
        lines = []
        for name in [*targets, *(k for k in have if k not in targets)]:
            target, n = targets.get(name), have.get(name, 0)
            lines.append((name, f"{n} of {target}" if target is not None else str(n)))
        lines += [(f"rule {r}", f"{p} pass · {f} fail") for r, (p, f) in tally.items()]
        return lines


def _pretty(text: str) -> tuple[str, str | None]:
    try:
        value = json.loads(text)
    except ValueError:
        return text, None
    if not isinstance(value, dict | list):
        return text, None
    return json.dumps(value, indent=2, ensure_ascii=False), "json"


class BucketsView(_RecordsView):
    kind = "buckets"

    def __init__(self, ws: Workspace) -> None:
        super().__init__(ws)
        self._tools: tuple[Any, dict[str, Any], str] | None = None

    def tools(self, db: sqlite_utils.Database) -> tuple[dict[str, Any], str]:
        """The tools the records are checked against: the spec's (as the newest buckets run
        read it), else the shipped Continue tools; and a note when the spec cannot be read.
        Loaded again only when the spec file changes."""
        from graftwork.core.rules.buckets import load_buckets
        from graftwork.core.rules.tools import default_tools_path, read_tools
        from graftwork.core.spec.load import SpecError

        summary = newest_summary(db, self.kind) or {}
        path = Path(summary.get("spec") or self.ws.root / "spec.yaml")
        stamp = (str(path), path.stat().st_mtime_ns if path.exists() else None)
        if self._tools is None or self._tools[0] != stamp:
            try:
                _loaded, tools = load_buckets(path)
                note = ""
            except (SpecError, OSError) as exc:
                tools, note = read_tools(default_tools_path()), f"shipped tools ({exc})"
            self._tools = (stamp, tools, note)
            self._check = _tool_checker(tools)
        return self._tools[1], self._tools[2]

    def _checker(self, db: Any) -> Callable[[dict[str, Any]], list[tuple[str, str | None]]]:
        self.tools(db)  # (re)loads the tools and their checker when the spec changed
        return self._check

    def _row(self, item_id: str, rec: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": item_id,
            "bucket": own.get("bucket", rec.get("task_type", "")),
            "task_type": rec.get("task_type", ""),
            "instruction": rec["instruction"],
            "output": rec["output"],
        }

    def dashboard(self, db: sqlite_utils.Database) -> list[tuple[str, str]]:
        summary = newest_summary(db, self.kind)
        if summary is None:
            return [("buckets", "not generated yet: run `graftwork buckets`")]
        targets = {b: c.get("target") for b, c in (summary.get("counts") or {}).items()}
        lines = [("spec", str(summary.get("spec", "")))]
        lines += self._summary_lines(self._checked(db, None), "bucket", targets)
        note = self.tools(db)[1]
        if note:
            lines.append(("tools", note))
        return lines


class TemplatesView(_RecordsView):
    kind = "templates"

    def __init__(self, ws: Workspace) -> None:
        super().__init__(ws)
        from graftwork.core.rules.alpaca import alpaca_check

        self._schema_rule = alpaca_check(where=True)  # the one Alpaca checker, as generate's

    def _checker(self, db: Any) -> Callable[[dict[str, Any]], list[tuple[str, str | None]]]:
        return self._check

    def _check(self, rec: dict[str, Any]) -> list[tuple[str, str | None]]:
        from graftwork.core.rules.validate import check_record

        return [*check_record(rec, ("fields",), {}), ("schema", self._schema_rule(rec))]

    def _row(self, item_id: str, rec: dict[str, Any], own: dict[str, Any]) -> dict[str, Any]:
        return {
            "id": item_id,
            "category": own.get("template_category", ""),
            "style": own.get("template_style", ""),
            "separator": own.get("separator_style", ""),
            "instruction": rec["instruction"],
            "output": rec["output"],
        }

    def dashboard(self, db: sqlite_utils.Database) -> list[tuple[str, str]]:
        summary = newest_summary(db, self.kind)
        if summary is None:
            return [("templates", "not generated yet: run `graftwork templates`")]
        checked = self._checked(db, None)
        lines = [("spec", str(summary.get("spec", "")))]
        lines += self._summary_lines(checked, "category", summary.get("targets") or {})
        for key in ("style", "separator"):
            seen: dict[str, int] = {}
            for row, _results in checked:
                if row[key]:
                    seen[row[key]] = seen.get(row[key], 0) + 1
            if seen:
                lines.append((key, " · ".join(f"{v} {n}" for v, n in sorted(seen.items()))))
        splits = summary.get("splits") or {}
        if splits:
            lines.append(("splits", " · ".join(f"{s} {n}" for s, n in splits.items())))
        return lines


def _tool_checker(tools: dict[str, Any]) -> Callable[[dict[str, Any]], list]:
    from graftwork.core.rules.validate import check_record

    return lambda rec: check_record(rec, ("fields", "tool_calls"), tools)


def buckets_view(ws: Workspace) -> BucketsView:
    return BucketsView(ws)


def templates_view(ws: Workspace) -> TemplatesView:
    return TemplatesView(ws)
