"""Widget selection, code budgets and the estimate before a run."""

from __future__ import annotations

import pytest
from support.widget_rows import add_widget, widget_source

from graftwork.core.base.errors import ItemError
from graftwork.core.base.workspace import Workspace
from graftwork.core.teach.config import TeacherConfig
from graftwork.core.teach.estimate import estimate
from graftwork.core.teach.plan import (
    TeachOptions,
    TeachUsageError,
    char_estimate,
    fit_code,
    select_items,
    widget_context,
)
from graftwork.core.teach.templates import draft_messages


@pytest.fixture
def db(workspace: Workspace):
    db = workspace.catalog()
    for i in range(4):
        add_widget(
            db,
            workspace,
            f"w{i}",
            prompt=None,
            order=i,
            code=widget_source(f"w{i}", lines=10 * (i + 1)),
        )
    yield db
    db.close()


def test_options_are_checked() -> None:
    with pytest.raises(TeachUsageError, match="--limit must be at least 1"):
        TeachOptions(limit=0)
    assert TeachOptions(refine=True).stages() == ["draft", "critique", "refine"]
    assert TeachOptions(sample=2).area == "sample"


def test_selection_order_limit_and_names(db) -> None:
    assert select_items(db, TeachOptions())[0] == ["w0", "w1", "w2", "w3"]
    assert select_items(db, TeachOptions(limit=2))[0] == ["w0", "w1"]
    assert select_items(db, TeachOptions(widgets=["w3", "w1"]))[0] == ["w1", "w3"]
    with pytest.raises(TeachUsageError, match="unknown widget\\(s\\): nope"):
        select_items(db, TeachOptions(widgets=["w1", "nope"]))


def test_fit_code_quotes_whole_lines_within_the_budget() -> None:
    code = "".join(f"line {i:03d} of the widget code\n" for i in range(100))
    quoted, tokens, total, truncated = fit_code(code, 50, char_estimate)
    assert truncated and total == char_estimate(code) and tokens <= 50
    body, marker = quoted.split("\n// ... ")
    assert all(line.startswith("line ") for line in body.splitlines())
    assert marker.startswith(f"{100 - len(body.splitlines())} more line(s) not shown")
    assert fit_code(code, 10_000, char_estimate) == (code, total, total, False)
    assert fit_code(code, 0, char_estimate)[0].startswith("\n// ... 100 more line(s)")


def test_widget_context_reports_missing_code(workspace: Workspace, db) -> None:
    import shutil

    shutil.rmtree(workspace.downloads_dir / "w2")
    with pytest.raises(ItemError, match=r"widget folder downloads/w2/w2\.widget is missing"):
        widget_context(workspace, db, "w2", 100, char_estimate)


def test_estimate_numbers(workspace: Workspace, db) -> None:
    cfg = TeacherConfig(
        max_tokens=100,
        price_input_per_million=1.0,
        price_output_per_million=2.0,
        code_budget_tokens=60,
    )
    est = estimate(workspace, db, cfg, TeachOptions(refine=True, limit=3), char_estimate)
    drafts = []
    for item in ("w0", "w1", "w2"):
        ctx = widget_context(workspace, db, item, 60, char_estimate)
        assert ctx.code_tokens <= 60
        drafts.append(sum(char_estimate(m["content"]) + 4 for m in draft_messages(ctx)) + 3)
    assert est["items"] == 3 and est["calls"] == 9
    assert est["calls_by_stage"] == {"draft": 3, "critique": 3, "refine": 3}
    assert est["input_tokens"] == 3 * sum(drafts) + 3 * 100 + 3 * 200
    assert est["output_tokens_max"] == 9 * 100
    assert est["cost_max"] == pytest.approx((est["input_tokens"] * 1.0 + 900 * 2.0) / 1e6)
    dry = estimate(
        workspace, db, cfg.model_copy(update={"dry_run": True}), TeachOptions(), char_estimate
    )
    assert dry["calls"] == 4 and dry["cost_max"] == 0
