"""Bad input to eval: one clear line naming the item and the cause, the other examples go on.
The generator is scripted (a stand-in for the mlx child process; test_eval_run.py runs it)."""

from __future__ import annotations

import json

import pytest
from support.cli import one_line, run_main
from support.eval_world import evaluate_suite, scripted, stub_run

from graftwork.core.base.workspace import Workspace
from graftwork.core.eval.store import latest_scores


def test_a_bad_suite_line_fails_alone(workspace: Workspace) -> None:
    workspace.config_path.write_text("recipe: templates\n")
    suite = workspace.root / "mixed.jsonl"
    suite.write_text(
        "\n".join(
            [
                json.dumps({"instruction": "Spell cat", "input": "", "output": "c a t"}),
                "{not json",
                json.dumps(
                    {
                        "messages": [
                            {"role": "user", "content": "Spell dog"},
                            {"role": "assistant", "content": "d o g"},
                        ]
                    }
                ),
                json.dumps({"title": "neither"}),
                "",
            ]
        )
    )
    run_id = stub_run(workspace, "words")
    answers = scripted(lambda which, i: ["c a t", "d o g"][i] if which == "adapter" else "?")
    result = evaluate_suite(workspace, run_id, str(suite), answers)
    assert result.ok == 2
    assert [item for item, _ in result.failed] == ["mixed.jsonl:2", "mixed.jsonl:4"]
    assert result.failed[0][1].startswith("not JSON")
    assert "neither chat messages" in result.failed[1][1]
    with workspace.catalog() as db:
        assert latest_scores(db, run_id)["exact_match"]["adapter"] == 1.0


def test_cli_refuses_a_missing_suite_in_one_line(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    run_id = stub_run(workspace, "words")
    assert run_main(workspace, "eval", "--run", run_id, "--suite", "nope.jsonl") == 2
    assert one_line(capsys.readouterr().err).endswith("nope.jsonl: no such suite file")
    assert run_main(workspace, "eval", "--run", run_id, "--suite", "x", "--split", "test") == 2
    assert "give --split or --suite, not both" in capsys.readouterr().err
    assert run_main(workspace, "eval", "--run", "missing-run") == 2
    assert "no run 'missing-run'" in one_line(capsys.readouterr().err)


def test_dry_run_judge_sends_nothing_and_stores_no_scores(workspace: Workspace) -> None:
    from graftwork.core.stages import run_stage

    workspace.config_path.write_text("recipe: templates\n")
    suite = workspace.root / "s.jsonl"
    suite.write_text(json.dumps({"id": "a", "prompt": "Spell cat", "reference": "c a t"}) + "\n")
    run_id = stub_run(workspace, "words")
    evaluate_suite(workspace, run_id, str(suite), scripted(lambda which, i: "c a t"))
    result = run_stage(workspace, "eval.judge", {"run_id": run_id, "overrides": {"dry_run": True}})
    assert result.summary["dry_run"] and result.summary["judged"] == 1
    assert result.summary["scores"] == {}
    with workspace.catalog() as db:
        assert "judge_score" not in latest_scores(db, run_id)
        assert db.execute("select status from teacher_calls").fetchall() == [
            ("dry-run",),
            ("dry-run",),
        ]


def test_plan_workspace_without_a_plan_evaluates_the_test_split(workspace: Workspace) -> None:
    from support.review_world import make_set

    from graftwork.core.eval.evaluate import choose_cases

    make_set(workspace)
    with workspace.catalog() as db:
        got = choose_cases(workspace, db, {"set_name": "widgets"}, "plan", None, None, None)
    assert got.source == "split:test" and [c.item_id for c in got.cases] == ["weather", "cpu"]
    assert got.cases[0].reference.startswith("// File: index.jsx")
