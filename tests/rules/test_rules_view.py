"""The buckets and templates recipes' workstation views (core/rules/view.py): the records the
stages put in the catalog with their bucket or category/style/separator, the rule results
per record, and the dashboard of counts against the spec's targets. Real stages over the
shipped specs, real SQLite; a broken record arrives as a re-import of one line."""

from __future__ import annotations

import json
from pathlib import Path

from graftwork import wiring
from graftwork.core.base.config import configs_dir
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.recipes import get_recipe
from graftwork.core.sources.imported import import_records
from graftwork.core.stages import run_stage

BUCKETS_SPEC = configs_dir() / "specs" / "buckets_coding.yaml"
TEMPLATES_SPEC = configs_dir().parent / "data" / "templates" / "spelling.yaml"


def _reimport(ws: Workspace, path: Path, line: int, record: dict) -> None:
    """One record changed in place (a new example revision of the same item)."""
    with ws.catalog() as db:
        run_job(
            db,
            "import",
            lambda job: import_records(ws, [(path, line, record)], fmt="alpaca", job=job),
        )


def test_buckets_rows_rules_and_dashboard_against_targets(workspace: Workspace) -> None:
    workspace.config_path.write_text("recipe: buckets\n")
    run_stage(workspace, "buckets", {"spec": str(BUCKETS_SPEC)})
    view = get_recipe("buckets").item_view(workspace)
    with workspace.catalog() as db:
        rows = view.rows(db)
    assert len(rows) == 205 and {r["rules"] for r in rows} == {"ok"}
    first = rows[0]
    assert (first["bucket"], first["task_type"]) == ("tool_core", "tool_core")
    assert json.loads(first["output"])["tool"]

    # A tool_core record whose call breaks its tool's schema and whose input is empty.
    bad_call = next(r for r in rows if json.loads(r["output"]).get("tool") == "read_file")
    out_dir = workspace.root / "data" / "processed" / "buckets"
    meta = {"id": bad_call["id"], "bucket": "tool_core", "task_type": "tool_core"}
    wrong = json.dumps({"tool": "read_file", "arguments": {"path": "x"}})
    _reimport(
        workspace,
        out_dir / "tool_core.jsonl",
        1,
        {"instruction": bad_call["instruction"], "input": "", "output": wrong, "meta": meta},
    )
    with workspace.catalog() as db:
        wiring_budget = run_job(db, "budget", lambda job: wiring.budget(workspace, job=job))
        assert wiring_budget.exit_code == 0
        again = view.rows(db, [bad_call["id"]])
        sections = {s.title: s for s in view.detail(db, bad_call["id"])}
        dash = dict(view.dashboard(db))
    assert again[0]["rules"] == "fails fields, tool_calls"
    failing = next(f for f in view.filters if f.label == "rule failed")
    assert failing.keep(again[0]) and not failing.keep(rows[1])
    rules = sections["rules"].text.splitlines()
    assert rules[0] == "FAIL  fields: missing or empty: input"
    assert rules[1].startswith("FAIL  tool_calls: read_file: ")
    assert "'filepath' is a required property" in rules[1]
    assert rules[2] == "pass  budget" and rules[3].startswith("      tokens: ")
    assert sections["output"].syntax == "json"
    assert "bucket: tool_core" in sections["record"].text
    assert dash["tool_core"] == "120 of 120" and dash["tool_neg"] == "40 of 40"
    assert dash["rule tool_calls"] == "159 pass · 1 fail"
    assert dash["rule fields"] == "204 pass · 1 fail"


def test_templates_rows_show_category_style_separator_and_the_schema_rule(
    workspace: Workspace,
) -> None:
    workspace.config_path.write_text("recipe: templates\n")
    run_stage(workspace, "templates", {"spec": str(TEMPLATES_SPEC)})
    view = get_recipe("templates").item_view(workspace)
    with workspace.catalog() as db:
        rows = view.rows(db)
        dash = dict(view.dashboard(db))
    assert len(rows) == 1250 and {r["rules"] for r in rows} == {"ok"}
    assert {r["category"] for r in rows} == {
        "spelling_first", "word_first", "letter_position", "word_length",
    }  # fmt: skip
    assert {r["style"] for r in rows} == {"simple", "playful"}
    assert {r["separator"] for r in rows} == {"space", "comma", "dash"}
    assert dash["spelling_first"] == "400 of 400" and dash["word_length"] == "150 of 150"
    styles = dict(part.split(" ") for part in dash["style"].split(" · "))
    assert sum(map(int, styles.values())) == 1250
    assert dash["splits"].startswith("train ")

    # A record whose meta holds a number breaks the draft-07 schema (meta values are strings).
    one = rows[0]
    path = workspace.root / "data" / "processed" / "templates" / "spelling_v1.jsonl"
    record = json.loads(path.read_text(encoding="utf-8").splitlines()[0])
    record["meta"] = {**record["meta"], "id": one["id"], "level": 3}
    _reimport(workspace, path, 1, record)
    with workspace.catalog() as db:
        (row,) = view.rows(db, [one["id"]])
        sections = {s.title: s for s in view.detail(db, one["id"])}
        dash = dict(view.dashboard(db))
    assert row["rules"] == "fails schema"
    assert "FAIL  schema: meta/level: 3 is not of type 'string'" in sections["rules"].text
    assert dash["rule schema"] == "1249 pass · 1 fail"
    assert "template_category: spelling_first" in sections["record"].text


def test_views_before_anything_was_generated(workspace: Workspace) -> None:
    for name, stage in (("buckets", "buckets"), ("templates", "templates")):
        view = get_recipe(name).item_view(workspace)
        with workspace.catalog() as db:
            assert view.rows(db) == []
            assert view.dashboard(db) == [(stage, f"not generated yet: run `graftwork {stage}`")]
            assert view.detail(db, "nope")[0].title == "not generated"
