"""eval: the suite through base and adapter, scored with the spec's contract, stored as
samples and reported in Markdown.

The generator is scripted here (a stand-in for the mlx child process, whose generation the
adapter tests cover with a real tiny model): these tests are about choosing prompts, scoring
and reporting."""

from __future__ import annotations

import json
import shutil
from typing import Any

from support.review_world import make_run

from graftwork.core.base.config import configs_dir
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.plan.evaluate import eval_run
from graftwork.core.plan.planner import run_plan
from graftwork.core.review.samples import SampleSettings

GOOD = {
    "summary": "Two easy days: old town first, then the river.",
    "assumptions": [],
    "steps": [{"title": "Day 1", "detail": "Old town"}],
    "tips": [],
    "verify": ["opening hours"],
}


def scripted(
    model: str, adapter: str | None, prompts: list[dict[str, Any]], *, on_event, **_: Any
) -> None:
    for which in ("base", "adapter"):
        on_event({"type": "loaded", "which": which, "ms": 1.0})
        for p in prompts:
            text = "Sure! Here are some ideas." if which == "base" else json.dumps(GOOD)
            on_event(
                {
                    "type": "sample",
                    "which": which,
                    "key": p["key"],
                    "text": text,
                    "ms": 2.0,
                    "tokens": 5,
                }
            )


def test_eval_scores_base_and_adapter_with_the_contract(workspace: Workspace) -> None:
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
    run_id = make_run(workspace, "travel", "some/model")
    best = workspace.runs_dir / run_id / "adapters" / "best"
    best.mkdir(parents=True)
    (best / "adapters.safetensors").write_bytes(b"\0")
    with workspace.catalog() as db:
        result = run_job(
            db,
            "eval",
            lambda job: eval_run(
                workspace,
                run_id,
                suite=str(suite),
                settings=SampleSettings(),
                generate=scripted,
                job=job,
            ),
        )
        samples = list(db.query("SELECT * FROM samples WHERE split = 'suite' ORDER BY id"))
    assert result.summary["prompts"] == 3
    assert (result.summary["base_passes"], result.summary["adapter_passes"]) == (0, 3)
    assert [s["item_id"] for s in samples] == ["s1", "s2", "s3"]
    assert (
        samples[0]["base_output"].startswith("Sure!")
        and json.loads(samples[0]["adapter_output"]) == GOOD
    )
    report = (workspace.runs_dir / run_id / "eval_suite.md").read_text(encoding="utf-8")
    assert "| parses | 0/3 | 3/3 |" in report and "| valid schema | – | 3/3 |" in report
    assert "parse: not JSON" in report
