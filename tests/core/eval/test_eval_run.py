"""`graftwork eval` on the tiny model for real: a set whose test split holds exactly what the
tiny adapter was trained to answer, evaluated through the registry (mlx-lm's evaluation and
generation in the child process, tree-sitter for the widget checks)."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from support import review_world
from support.review_world import TRAINED_ANSWER, make_run, write_trained_set

from graftwork.core.base.workspace import Workspace
from graftwork.core.eval.store import eval_items, latest_scores
from graftwork.core.stages import run_stage

review_model_dir = review_world.review_model_dir  # session fixtures
tiny_adapter_dir = review_world.tiny_adapter_dir

pytestmark = pytest.mark.mlx


def test_eval_scores_the_adapter_better_on_what_it_learned(
    workspace: Workspace, review_model_dir: Path, tiny_adapter_dir: Path
) -> None:
    write_trained_set(workspace)
    run_id = make_run(workspace, "widgets", str(review_model_dir), tiny_adapter_dir)
    result = run_stage(workspace, "eval", {"run_id": run_id, "max_tokens": 16})
    s = result.summary
    assert (s["examples"], s["source"], s["checkpoint"]) == (3, "split:test", "best")
    scores = s["scores"]
    # perplexity of the trained answers: far lower with the adapter
    assert scores["loss"]["adapter"] < scores["loss"]["base"]
    assert scores["perplexity"]["adapter"] == pytest.approx(math.exp(scores["loss"]["adapter"]))
    assert scores["perplexity"]["adapter"] < scores["perplexity"]["base"] / 2
    assert scores["tokens_per_sec"]["base"] > 0 and scores["tokens_per_sec"]["adapter"] > 0
    # greedy: the adapter writes its answer, which exports `command` and parses
    assert scores["exports_command"]["adapter"] == 1.0
    assert scores["jsx_parses"]["adapter"] == 1.0
    assert scores["exports_command"]["base"] < 1.0
    assert scores["widget_complete"]["adapter"] == 0.0  # no render, no refreshFrequency
    with workspace.catalog() as db:
        stored = latest_scores(db, run_id)
        items = eval_items(db, s["eval_id"])
        samples = list(db.query("select * from samples where run_id = ? order by id", [run_id]))
    assert stored["perplexity"]["adapter"] == scores["perplexity"]["adapter"]
    assert stored["loss"]["n"] == 3 and stored["loss"]["source"] == "split:test"
    assert [x["item_id"] for x in samples] == ["test-w0", "test-w1", "test-w2"]
    assert all(x["adapter_output"].strip() == TRAINED_ANSWER for x in samples)
    assert {(i["sample_id"], i["model"]) for i in items} == {
        (x["id"], m) for x in samples for m in ("base", "adapter")
    }
    report = Path(s["report"]).read_text(encoding="utf-8")
    assert Path(s["report"]).name == "eval_test.md"
    assert "| exports_command |" in report and "| perplexity |" in report
    assert "better" in report.split("| perplexity |")[1].splitlines()[0]


def test_eval_command_prints_the_table_then_judges(
    workspace: Workspace,
    review_model_dir: Path,
    tiny_adapter_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from support.cli import run_main
    from support.fake_openai_server import FakeOpenAIServer

    monkeypatch.setenv("GW_EVAL_KEY", "sk-eval")
    write_trained_set(workspace)
    run_id = make_run(workspace, "widgets", str(review_model_dir), tiny_adapter_dir)
    with FakeOpenAIServer() as server:  # its judge prefers the answer closer to the reference
        code = run_main(
            workspace,
            *("eval", "--run", run_id, "--n", "2", "--max-tokens", "16", "--judge", "-y"),
            *("--base-url", server.base_url, "--api-key-env", "GW_EVAL_KEY"),
        )
        assert len(server.served()) == 4  # two pairs, both orders
    captured = capsys.readouterr()
    assert code == 0, captured.err
    rows = {line.split()[0]: line.strip() for line in captured.out.splitlines() if line.strip()}
    assert rows["perplexity"].endswith("better") and "100.0%" in rows["exports_command"]
    assert "judge 2 pair(s)" in captured.err and "calls to send: 4" in captured.err
    assert "2/2 pair(s) judged; judge_score 100.0%" in captured.out
