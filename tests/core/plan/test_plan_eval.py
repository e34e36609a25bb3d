"""eval in a plan workspace: the fixed suite through base and adapter, scored with the spec's
contract (the plan recipe's metric set), stored as samples and scores, reported in Markdown.

The generator is scripted here (a stand-in for the mlx child process, whose generation the
adapter tests cover with a real tiny model): these tests are about choosing prompts, scoring
and reporting."""

from __future__ import annotations

import json
import shutil

from support.eval_world import evaluate_suite, scripted, stub_run

from graftwork.core.base.config import configs_dir
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.eval.store import latest_scores
from graftwork.core.plan.planner import run_plan

GOOD = {
    "summary": "Two easy days: old town first, then the river.",
    "assumptions": [],
    "steps": [{"title": "Day 1", "detail": "Old town"}],
    "tips": [],
    "verify": ["opening hours"],
}


def test_eval_scores_base_and_adapter_with_the_contract(workspace: Workspace) -> None:
    text = workspace.config_path.read_text().replace("recipe: uebersicht", "recipe: plan")
    workspace.config_path.write_text(text)
    specs = configs_dir() / "specs"
    shutil.copy(specs / "travel_guide.yaml", workspace.root / "spec.yaml")
    shutil.copy(specs / "travel_cities.txt", workspace.root)
    with workspace.catalog() as db:
        run_job(db, "plan", lambda job: run_plan(workspace, job=job))
    suite = workspace.root / "suite.jsonl"
    suite.write_text(
        "".join(
            json.dumps(
                {"id": f"s{i}", "category": "itinerary", "prompt": f"Plan {i} days in Porto."}
            )
            + "\n"
            for i in range(1, 4)
        ),
        encoding="utf-8",
    )
    run_id = stub_run(workspace, "travel")
    answers = scripted(
        lambda which, i: "Sure! Here are some ideas." if which == "base" else json.dumps(GOOD)
    )
    result = evaluate_suite(workspace, run_id, str(suite), answers)
    with workspace.catalog() as db:
        samples = list(db.query("SELECT * FROM samples WHERE split = 'suite' ORDER BY id"))
        scores = latest_scores(db, run_id)
    assert result.summary["examples"] == 3 and result.summary["source"] == "suite:suite.jsonl"
    assert (scores["passes_contract"]["base"], scores["passes_contract"]["adapter"]) == (0.0, 1.0)
    assert scores["schema_valid"]["adapter"] == 1.0 and scores["parses"]["base"] == 0.0
    assert [s["item_id"] for s in samples] == ["s1", "s2", "s3"]
    assert (
        samples[0]["base_output"].startswith("Sure!")
        and json.loads(samples[0]["adapter_output"]) == GOOD
    )
    report = (workspace.runs_dir / run_id / "eval_suite.md").read_text(encoding="utf-8")
    assert "| parses | 0.0% | 100.0% | +100.0 pts better | 3 |" in report
    assert "| schema_valid | – | 100.0% |" in report  # prose has no schema to check
    assert "| s1 | ✗ ✓ | – ✓ | ✗ ✓ | ✗ ✓ |" in report  # parses, schema, keys, passes
