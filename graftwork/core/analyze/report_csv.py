"""widget_processing_results.csv: the seed's report, rebuilt from the catalog at any time.

Columns: OS_<field> for every manifest field (union over all items, in first-seen order),
PS_* analysis facts (PS_iscoffee, PS_isJSX and PS_widgetfoldername exactly as in the seed),
AI_* prompt state and CT_* curation decision. One row per item in manifest order.
PS_tokens / PS_token_counts / PS_budget_action come from the newest budget run (added columns:
the seed's stay where they were).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import sqlite_utils

from graftwork.core.base.atomic import atomic_writer
from graftwork.core.base.workspace import Workspace
from graftwork.core.budget.tokens import counts_label
from graftwork.core.curate.categories import item_categories
from graftwork.core.curate.curation import all_decisions
from graftwork.core.prompts.current import current_all

REPORT_NAME = "widget_processing_results.csv"

PS_COLUMNS = [
    "PS_iscoffee",
    "PS_isJSX",
    "PS_widgetfoldername",
    "PS_download_status",
    "PS_kind",
    "PS_file_count",
    "PS_total_bytes",
    "PS_code_bytes",
    "PS_refresh_frequency",
    "PS_command",
    "PS_styling",
    "PS_imports",
    "PS_error",
    # the budget's count of the complete example; PS_token_counts says exact or approximate
    "PS_tokens",
    "PS_token_counts",
    "PS_budget_action",
]
AI_COLUMNS = [
    "AI_prompt_state",
    "AI_prompt_rev",
    "AI_prompt_origin",
    "AI_teacher_model",
    "AI_prompt",
    "AI_category",  # `teach categories`: one of project.categories
]
CT_COLUMNS = ["CT_decision", "CT_note"]


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _yn(flag: Any) -> str:
    return "Y" if flag else "N"


def _teacher_model(provenance: dict[str, Any] | None) -> str:
    """From a current revision's provenance (already decoded by prompts.current_all)."""
    if not provenance:
        return ""
    return str(provenance.get("model") or provenance.get("teacher_model") or "")


def report_rows(db: sqlite_utils.Database) -> tuple[list[str], list[list[str]]]:
    """The report's header and rows, straight from the catalog."""
    items = list(db.query("SELECT id, manifest FROM items ORDER BY manifest_order, id"))
    manifests: list[dict[str, Any]] = []
    fields: dict[str, None] = {}
    for it in items:
        try:
            m = json.loads(it["manifest"] or "{}")
        except ValueError:
            m = {}
        m = m if isinstance(m, dict) else {}
        manifests.append(m)
        fields.update(dict.fromkeys(m))
    downloads = {r["item_id"]: r for r in db.query("SELECT item_id, status FROM downloads")}
    analysis = {r["item_id"]: r for r in db.query("SELECT * FROM analysis")}
    prompts = current_all(db)
    decisions = all_decisions(db)
    categories = item_categories(db)
    budget = {
        r["item_id"]: r
        for r in db.query("SELECT item_id, total_tokens, action, tokenizer FROM budget")
    }

    header = [f"OS_{f}" for f in fields] + PS_COLUMNS + AI_COLUMNS + CT_COLUMNS
    rows = []
    for it, m in zip(items, manifests, strict=True):
        iid = it["id"]
        if "id" in fields and "id" not in m:
            m = {**m, "id": iid}
        a = analysis.get(iid) or {}
        d = downloads.get(iid) or {}
        p = prompts.get(iid) or {}
        c = decisions.get(iid) or {}
        b = budget.get(iid) or {}
        try:
            imports = ", ".join(json.loads(a.get("imports") or "[]"))
        except ValueError:
            imports = ""
        row = [_cell(m.get(f)) for f in fields] + [
            _yn(a.get("is_coffee")),
            _yn(a.get("is_jsx")),
            _cell(a.get("folder")),
            _cell(d.get("status")),
            _cell(a.get("kind")),
            _cell(a.get("file_count")),
            _cell(a.get("total_bytes")),
            _cell(a.get("code_bytes")),
            _cell(a.get("refresh_frequency")),
            _cell(a.get("command")),
            _cell(a.get("styling")),
            imports,
            _cell(a.get("error")),
            _cell(b.get("total_tokens")),
            counts_label(b["tokenizer"]) if b else "",
            _cell(b.get("action")),
            _cell(p.get("state")),
            _cell(p.get("rev")),
            _cell(p.get("origin")),
            _teacher_model(p.get("provenance")),
            _cell(p.get("text")),
            categories.get(iid, ""),
            _cell(c.get("decision")),
            _cell(c.get("note")),
        ]
        rows.append(row)
    return header, rows


def write_report(ws: Workspace, db: sqlite_utils.Database) -> Path:
    """Write (atomically) widget_processing_results.csv at the workspace root; return its path."""
    header, rows = report_rows(db)
    path = ws.root / REPORT_NAME
    with atomic_writer(path) as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path
