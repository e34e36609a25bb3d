"""eval_results: scores of an evaluation stored together, the newest per metric read back."""

from __future__ import annotations

import pytest
from support.cli import run_main
from support.review_world import make_run

from graftwork.core.base.workspace import Workspace
from graftwork.core.eval.store import Score, eval_scores, latest_scores, record_scores


def test_latest_scores_reads_newest_evaluation_per_metric(workspace: Workspace) -> None:
    with workspace.catalog() as db:
        assert latest_scores(db, "run-a") == {}
        first = record_scores(
            db,
            "run-a",
            checkpoint="best",
            source="split:test",
            scores=[
                Score("base", "perplexity", 40.0, 10),
                Score("adapter", "perplexity", 12.5, 10),
                Score("base", "exact_match", 0.1, 10, {"hits": 1}),
                Score("adapter", "exact_match", 0.7, 10, {"hits": 7}),
            ],
        )
        second = record_scores(
            db,
            "run-a",
            checkpoint="last",
            source="suite:fixed.jsonl",
            scores=[Score("base", "exact_match", 0.2, 5), Score("adapter", "exact_match", 0.8, 5)],
        )
        record_scores(
            db,
            "run-b",
            checkpoint="best",
            source="split:test",
            scores=[Score("adapter", "loss", 1)],
        )
        scores = latest_scores(db, "run-a")
        assert set(scores) == {"perplexity", "exact_match"}
        # the split's perplexity stays although a later suite evaluation exists
        assert scores["perplexity"]["base"] == 40.0 and scores["perplexity"]["adapter"] == 12.5
        assert scores["perplexity"]["eval_id"] == first and scores["perplexity"]["n"] == 10
        assert scores["exact_match"] == {
            **scores["exact_match"],
            "base": 0.2,
            "adapter": 0.8,
            "pair": None,
            "source": "suite:fixed.jsonl",
            "checkpoint": "last",
            "eval_id": second,
            "n": 5,
        }
        rows = eval_scores(db, first)
        assert [r["metric"] for r in rows][:2] == ["perplexity", "perplexity"]
        assert rows[3]["detail"] == {"hits": 7}


def test_runs_compare_prints_metrics_with_deltas(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    a = make_run(workspace, "widgets", "some/model", run_id="20261201-010000-widgets-aaaa")
    b = make_run(workspace, "widgets", "some/model", run_id="20261201-020000-widgets-bbbb")
    with workspace.catalog() as db:
        for run, ppl, parses in ((a, 9.0, 0.5), (b, 4.5, 0.75)):
            record_scores(
                db,
                run,
                checkpoint="best",
                source="split:test",
                scores=[
                    Score("base", "perplexity", 40.0, 8),
                    Score("adapter", "perplexity", ppl, 8),
                    Score("adapter", "jsx_parses", parses, 8),
                ],
            )
        record_scores(
            db,
            b,
            checkpoint="best",
            source="split:test",
            scores=[Score("pair", "judge_score", 0.8, 8)],
        )
    assert run_main(workspace, "runs", "--compare", a, b) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines() if line.strip()}
    assert rows["perplexity"][1:] == ["split:test", "9.0000", "4.5000", "-4.5000", "better"]
    assert rows["jsx_parses"][1:] == ["split:test", "50.0%", "75.0%", "+25.0", "pts", "better"]
    assert rows["judge_score"][2:] == ["–", "80.0%", "–"]
    assert run_main(workspace, "runs", "--compare", a, "nope") == 2
    assert "no run 'nope'" in capsys.readouterr().err


def test_review_export_shows_the_runs_eval_scores(workspace: Workspace) -> None:
    from graftwork.core.review.report import render_report

    run = make_run(workspace, "widgets", "some/model")
    with workspace.catalog() as db:
        assert "- evaluation" not in render_report(db, [run])
        record_scores(
            db,
            run,
            checkpoint="best",
            source="split:test",
            scores=[Score("base", "perplexity", 40.0, 8), Score("adapter", "perplexity", 9.0, 8)],
        )
        record_scores(
            db,
            run,
            checkpoint="best",
            source="split:test",
            scores=[Score("pair", "judge_score", 0.75, 8)],
        )
        report = render_report(db, [run])
    assert (
        "- evaluation (split:test; base → adapter): perplexity 40.0000 → 9.0000; judge_score 75.0%"
        in report
    )
