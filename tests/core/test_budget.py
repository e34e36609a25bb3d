from __future__ import annotations

import json
from collections.abc import Sequence

import pytest
from support.widget_rows import add_prompt, add_widget, widget_source

from graftwork.adapters.tokenizers import TiktokenBackend
from graftwork.core.base.jobs import Job
from graftwork.core.budget.budget import histogram, run_budget, stats, strategy_for
from graftwork.core.budget.tokens import CachingCounter, TokenCount
from graftwork.core.dataset.examples import Example
from graftwork.core.ingest.widget_sizes import widget_size_report


class SpyBackend:
    """The real offline tiktoken backend, recording every text it is asked to encode."""

    def __init__(self) -> None:
        self.inner = TiktokenBackend()
        self.id = self.inner.id
        self.encoded: list[str] = []

    def render(self, example: Example) -> str:
        return self.inner.render(example)

    def count_texts(self, texts: Sequence[str]) -> list[int]:
        self.encoded.extend(texts)
        return self.inner.count_texts(texts)


def _tc(total: int, widget: int) -> TokenCount:
    return TokenCount(
        total,
        {"system": 0, "tools": 0, "user": 0, "assistant": widget, "structure": total - widget},
    )


def test_strategy_has_the_seed_shape_and_boundary_is_keep() -> None:
    s = strategy_for({"a": _tc(4095, 3000), "b": _tc(4096, 3100), "c": _tc(5286, 4233)}, 4095)
    assert list(s) == ["max_sequence_length", "strategy", "summary"]
    assert s["max_sequence_length"] == 4095
    assert s["strategy"]["a"] == {
        "action": "keep",
        "current_total_tokens": 4095,
        "current_widget_tokens": 3000,
    }
    assert s["strategy"]["b"]["over_by"] == 1
    assert s["strategy"]["c"] == {
        "action": "exclude",
        "reason": "Exceeds limit (5286 > 4095 tokens)",
        "current_total_tokens": 5286,
        "current_widget_tokens": 4233,
        "over_by": 1191,
    }
    assert s["summary"] == {"keep": 1, "exclude": 2}
    # The same counts at another limit: the TUI's instant preview.
    assert strategy_for({"c": _tc(5286, 4233)}, 6000)["summary"] == {"keep": 1, "exclude": 0}
    assert strategy_for({"c": (5286, 4233)}, 4095)["strategy"]["c"]["over_by"] == 1191


def test_histogram_and_stats() -> None:
    h = histogram([0, 5, 10, 19, 20], 2)
    assert [b["count"] for b in h] == [3, 2]
    assert h[0]["lo"] == 0 and h[-1]["hi"] >= 20
    assert sum(b["count"] for b in histogram(list(range(1000)), 7)) == 1000
    edges = histogram([1, 100, 4095, 4096, 9000], [0, 4096, 8192])
    assert [b["count"] for b in edges] == [3, 1]
    assert stats([1, 2, 3, 4, 100]) == {
        "count": 5,
        "min": 1,
        "max": 100,
        "mean": 22.0,
        "median": 3,
        "p90": 61.6,
    }
    assert stats([])["count"] == 0
    with pytest.raises(ValueError):
        histogram([1], [5, 1])


def test_widget_size_recommendations_are_quantified() -> None:
    r = widget_size_report({"small": 100, "mid": 150, "huge": 450, "ok": 80}, 100)
    rec = r["recommendations"]
    assert rec["exclusion"]["widgets_excluded"] == 2 and rec["exclusion"]["tokens_lost"] == 600
    assert (
        rec["truncation"]["widgets_truncated"] == 2 and rec["truncation"]["tokens_cut"] == 50 + 350
    )
    assert rec["hybrid"]["widgets_excluded"] == 1 and rec["hybrid"]["excluded"] == ["huge"]
    assert rec["hybrid"]["widgets_truncated"] == 1 and rec["hybrid"]["tokens_cut"] == 50
    assert rec["chunking"]["chunks_needed"] == 2 + 5
    assert r["widgets"]["small"]["over_limit"] is False


def test_budget_stage_writes_files_table_and_recounts_only_the_edited_example(workspace) -> None:
    db = workspace.catalog()
    for i in range(5):
        add_widget(db, workspace, f"w{i}", order=i)
    add_widget(db, workspace, "big", code=widget_source("big", lines=900), order=9)
    add_widget(db, workspace, "noprompt", prompt=None)
    add_widget(db, workspace, "coffee", is_jsx=False)
    spy = SpyBackend()
    counter = CachingCounter(spy, workspace.db_path)
    result = run_budget(workspace, counter, max_tokens=2000, job=Job(None, "budget"))
    assert result.exit_code == 0
    assert result.skipped == [("noprompt", "no prompt yet")]
    strategy = json.loads((workspace.root / "training_data_strategy.json").read_text())
    assert strategy["summary"] == {"keep": 5, "exclude": 1}
    assert strategy["strategy"]["big"]["action"] == "exclude"
    assert "coffee" not in strategy["strategy"]
    analysis = json.loads((workspace.root / "training_data_size_analysis.json").read_text())
    item = analysis["items"]["w0"]
    assert sum(item["parts"].values()) == item["total"] and item["status"] == "under"
    assert analysis["stats"]["count"] == 6
    rows = {r["item_id"]: r for r in db["budget"].rows}
    assert (
        rows["big"]["action"] == "exclude"
        and rows["big"]["over_by"] == strategy["strategy"]["big"]["over_by"]
    )
    assert rows["w1"]["max_tokens"] == 2000
    # System and tools are counted once, not once per example.
    first = list(spy.encoded)
    assert sum(1 for t in first if t.startswith("A conversation")) == 1

    # Edit one prompt: a fresh counter (new process) hits the SQLite cache for all but that one.
    add_prompt(db, "w3", "Create an Übersicht widget that shows the date.")
    spy2 = SpyBackend()
    again = run_budget(
        workspace, CachingCounter(spy2, workspace.db_path), max_tokens=2000, job=Job(None, "budget")
    )
    assert again.ok == 6
    # Encoded again: w3's line, its prompt and its code, plus system and tools once per counter.
    w3_line = next(t for t in spy2.encoded if t.startswith("[{") and "shows the date" in t)
    assert sorted(spy2.encoded, key=len) == sorted(
        [
            w3_line,
            "Create an Übersicht widget that shows the date.",
            "// File: index.jsx\n" + widget_source("w3").strip(),
            *[
                t
                for t in spy2.encoded
                if t.startswith("A conversation") or t.startswith('[{"type": "function"')
            ],
        ],
        key=len,
    )
    assert len(spy2.encoded) == 5
    assert not any("w0 line" in t for t in spy2.encoded)
    # Same counter again: nothing encoded at all.
    spy2.encoded.clear()
    run_budget(
        workspace, CachingCounter(spy2, workspace.db_path), max_tokens=2000, job=Job(None, "budget")
    )
    assert spy2.encoded == []
    db.close()


def test_broken_widget_is_a_one_line_failure_and_the_rest_go_on(workspace) -> None:
    import shutil

    db = workspace.catalog()
    add_widget(db, workspace, "good")
    root = add_widget(db, workspace, "gone")
    shutil.rmtree(root)
    result = run_budget(
        workspace, CachingCounter(TiktokenBackend(), workspace.db_path), job=Job(None, "budget")
    )
    assert result.failed == [("gone", "widget folder downloads/gone/gone.widget is missing")]
    assert result.exit_code == 1
    assert json.loads((workspace.root / "training_data_strategy.json").read_text())["summary"] == {
        "keep": 1,
        "exclude": 0,
    }
    db.close()


def test_widgets_only_counts_code_without_prompts(workspace) -> None:
    db = workspace.catalog()
    add_widget(db, workspace, "a", prompt=None)
    add_widget(db, workspace, "b", code=widget_source("b", lines=400), prompt=None)
    db.close()
    result = run_budget(
        workspace,
        CachingCounter(TiktokenBackend()),
        max_tokens=1000,
        widgets_only=True,
        job=Job(None, "b"),
    )
    report = json.loads((workspace.root / "widget_size_analysis.json").read_text())
    assert report["total_widgets"] == 2 and report["widgets_over_limit"] == 1
    assert report["recommendations"]["exclusion"]["excluded"] == ["b"]
    assert result.summary["over_limit"] == 1
    assert not (workspace.root / "training_data_strategy.json").exists()


def test_changed_code_is_recounted_after_analyze(workspace) -> None:
    db = workspace.catalog()
    add_widget(db, workspace, "a")
    counter = CachingCounter(TiktokenBackend(), workspace.db_path)
    first = run_budget(workspace, counter, job=Job(None, "b"))
    before = json.loads((workspace.root / "training_data_strategy.json").read_text())["strategy"][
        "a"
    ]
    # New code on disk, analysis re-run (add_widget rewrites the row and its code hash).
    add_widget(db, workspace, "a", code=widget_source("a", lines=50), prompt=None)
    run_budget(workspace, counter, job=Job(None, "b"))
    after = json.loads((workspace.root / "training_data_strategy.json").read_text())["strategy"][
        "a"
    ]
    assert after["current_widget_tokens"] > before["current_widget_tokens"]
    row = db["budget"].get("a")
    assert row["total_tokens"] == after["current_total_tokens"]
    assert first.ok == 1
    db.close()


def test_cancel_keeps_the_counts_made_so_far(workspace) -> None:
    import threading

    from graftwork.core.base.jobs import Cancelled

    db = workspace.catalog()
    for i in range(6):
        add_widget(db, workspace, f"c{i}")
    db.close()
    spy = SpyBackend()
    counter = CachingCounter(spy, workspace.db_path, batch=2)
    cancel = threading.Event()
    job = Job(
        None,
        "budget",
        cancel_event=cancel,
        listeners=[lambda e: e.type == "progress" and cancel.set()],
    )
    with pytest.raises(Cancelled):
        run_budget(workspace, counter, job=job)
    assert not (workspace.root / "training_data_strategy.json").exists()
    spy2 = SpyBackend()
    run_budget(workspace, CachingCounter(spy2, workspace.db_path), job=Job(None, "budget"))
    lines = [t for t in spy2.encoded if t.startswith('[{"role"')]
    assert len(lines) == 4  # the first batch of 2 was kept in the cache


def test_live_preview_counts_are_not_persisted(workspace) -> None:
    from graftwork.core.base.project import load_project
    from graftwork.core.dataset.examples import make_example

    project = load_project(workspace)
    counter = CachingCounter(TiktokenBackend(), workspace.db_path)
    ex = make_example("x", project.system_prompt, project.tool, "A clock while typ", "code")
    live = counter.count(ex, persist=False)
    db = workspace.catalog()
    assert db["token_cache"].count == 0
    assert counter.count(ex) == live
    assert db["token_cache"].count == 1
    db.close()


def test_progress_reaches_the_total_when_twins_hit_the_cache(workspace) -> None:
    db = workspace.catalog()
    for name in ("twin1", "twin2"):  # forks: same prompt, same code, one identity key
        add_widget(db, workspace, name, code=widget_source("same"))
    db.close()
    counter = CachingCounter(TiktokenBackend(), workspace.db_path)
    run_budget(workspace, counter, job=Job(None, "budget"))
    job = Job(None, "budget")
    run_budget(workspace, counter, job=job)
    assert job.total == 2 and job.done == 2
