"""Samples, verdicts, promotion into the catalog, and the Markdown report.

Sampling uses real generation (the mlx child on the tiny model with a real adapter); the
review tests start from sample rows stored the way `graftwork sample` stores them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import review_world
from support.review_world import WIDGETS, add_samples, make_run, make_set, sample_rows

from graftwork.core.base.jobs import Job
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.candidates import load_candidates
from graftwork.core.recipes import example_provider
from graftwork.core.review.report import render_report
from graftwork.core.review.review import ReviewError, get_sample, promote_run, set_verdict
from graftwork.core.review.samples import SampleError, SampleSettings, load_held_out, sample_run

review_model_dir = review_world.review_model_dir  # session fixtures
tiny_adapter_dir = review_world.tiny_adapter_dir


# ---- held-out prompts -------------------------------------------------------------------


def test_held_out_prompts_come_from_the_set_split_with_item_ids(workspace: Workspace) -> None:
    make_set(workspace)
    held = load_held_out(workspace, "widgets", "test")
    assert [h.item_id for h in held] == ["weather", "cpu"]
    assert held[0].prompt == "Current weather for Lisbon."
    assert held[0].reference.startswith(
        "// File: index.jsx\nexport const command = 'curl wttr.in/Lisbon'"
    )
    assert [m["role"] for m in held[0].messages] == [
        "system",
        "user",
    ]  # the answer is not in the prompt
    assert "tools" in held[0].messages[0]


def test_a_broken_split_line_is_named_with_its_cause(workspace: Workspace) -> None:
    make_set(workspace)
    path = workspace.datasets_dir / "widgets" / "test.jsonl"
    path.write_text(path.read_text() + "{not json\n[1]\n")
    with pytest.raises(SampleError, match=r"test\.jsonl:3: not JSON"):
        load_held_out(workspace, "widgets", "test")
    path.write_text(path.read_text().replace("{not json\n", ""))
    with pytest.raises(SampleError, match=r"test\.jsonl:3: not an Apple sample"):
        load_held_out(workspace, "widgets", "test")


def test_bad_settings_and_missing_adapter_are_clear(workspace: Workspace) -> None:
    with pytest.raises(SampleError, match="--split"):
        SampleSettings(split="dev").check()
    with pytest.raises(SampleError, match="--n"):
        SampleSettings(n=0).check()
    make_set(workspace)
    run_id = make_run(workspace, "widgets", "/nowhere")
    with pytest.raises(SampleError, match="no saved adapter"):
        sample_run(workspace, run_id, SampleSettings(), generate=None, job=Job(None, "sample"))  # type: ignore[arg-type]


@pytest.mark.mlx
def test_sample_stores_base_and_adapter_beside_the_reference(
    workspace: Workspace, review_model_dir: Path, tiny_adapter_dir: Path
) -> None:
    from graftwork.adapters.mlx.generate import run_generation

    make_set(workspace)
    run_id = make_run(workspace, "widgets", str(review_model_dir), tiny_adapter_dir)
    settings = SampleSettings(split="test", n=2, seed=5, temperature=0.8, max_tokens=10)
    result = sample_run(
        workspace, run_id, settings, generate=run_generation, job=Job(None, "sample")
    )
    assert result.ok == 2
    rows = sample_rows(workspace, run_id)
    assert [r["item_id"] for r in rows] == ["weather", "cpu"]
    for row in rows:
        assert row["reference"].startswith("// File: index.jsx")
        assert (
            row["base_output"]
            and row["adapter_output"]
            and row["base_output"] != row["adapter_output"]
        )
        assert (row["seed"], row["temperature"], row["max_tokens"], row["adapter"]) == (
            5,
            0.8,
            10,
            "best",
        )
        assert row["base_ms"] > 0 and row["adapter_ms"] > 0 and row["verdict"] == "none"
    # Same seed, temperature and max tokens: the same texts again.
    sample_run(workspace, run_id, settings, generate=run_generation, job=Job(None, "sample"))
    again = sample_rows(workspace, run_id)[2:]
    assert [(r["base_output"], r["adapter_output"]) for r in again] == [
        (r["base_output"], r["adapter_output"]) for r in rows
    ]


# ---- verdicts ---------------------------------------------------------------------------


def test_verdict_score_and_note_are_stored_and_kept(workspace: Workspace) -> None:
    make_set(workspace)
    run_id = make_run(workspace, "widgets", "/m")
    sid, _ = add_samples(workspace, run_id)
    db = workspace.catalog()
    set_verdict(db, sid, "accept", score=4)
    set_verdict(db, sid, note="close to the reference")  # None leaves verdict and score alone
    row = get_sample(db, sid)
    assert (row["verdict"], row["score"], row["note"]) == ("accept", 4, "close to the reference")
    set_verdict(db, sid, "reject")
    assert get_sample(db, sid)["verdict"] == "reject" and get_sample(db, sid)["score"] == 4
    with pytest.raises(ReviewError, match="verdict must be one of"):
        set_verdict(db, sid, "maybe")
    with pytest.raises(ReviewError, match="score must be a whole number from 1 to 5"):
        set_verdict(db, sid, score=6)
    with pytest.raises(ReviewError, match="no sample 999"):
        set_verdict(db, 999, "accept")
    db.close()


# ---- promotion --------------------------------------------------------------------------


def test_promote_turns_accepted_outputs_into_generated_examples(workspace: Workspace) -> None:
    make_set(workspace)
    run_id = make_run(workspace, "widgets", "/m")
    accepted, rejected = add_samples(workspace, run_id)
    db = workspace.catalog()
    set_verdict(db, accepted, "accept", score=5)
    set_verdict(db, rejected, "reject")
    promoted = promote_run(workspace, db, run_id)
    assert [p["sample_id"] for p in promoted] == [accepted]
    new_id = promoted[0]["item_id"]
    assert new_id == f"weather__gen{accepted}"
    item = db["items"].get(new_id)
    assert item["source"] == "generated" and item["name"] == "Weather (generated)"
    assert json.loads(item["manifest"])["generated"]["run_id"] == run_id
    rev = next(db.query("select * from prompt_revisions where item_id = ?", [new_id]))
    assert (rev["origin"], rev["state"], rev["text"]) == (
        "generated",
        "accepted",
        "Current weather for Lisbon.",
    )
    assert json.loads(rev["provenance"])["sample_id"] == accepted
    # The output's `// File:` headers become files again, so build reads back the exact answer.
    assert (workspace.downloads_dir / new_id / "lib" / "util.jsx").is_file()
    examples = {e.item_id: e for e in load_candidates(db, example_provider(workspace)).examples}
    sample = get_sample(db, accepted)
    assert examples[new_id].assistant == sample["adapter_output"].strip()
    assert promoted[0]["apple_line"] == examples[new_id].apple_line()
    assert sample["promoted"] == 1
    assert promote_run(workspace, db, run_id) == []  # promoting again does nothing
    with pytest.raises(ReviewError, match="already promoted"):
        set_verdict(db, accepted, "reject")
    db.close()


def test_headerless_output_is_promoted_as_index_jsx(workspace: Workspace) -> None:
    make_set(workspace)
    run_id = make_run(workspace, "widgets", "/m")
    sid = add_samples(workspace, run_id, n=1)[0]
    db = workspace.catalog()
    db["samples"].update(sid, {"adapter_output": "export const command = 'uptime'"})
    set_verdict(db, sid, "accept")
    (row,) = promote_run(workspace, db, run_id)
    assert (
        workspace.downloads_dir / row["item_id"] / "index.jsx"
    ).read_text() == "export const command = 'uptime'\n"
    db.close()


# ---- report -----------------------------------------------------------------------------


def test_report_has_scores_per_run_and_every_sample(workspace: Workspace) -> None:
    make_set(workspace)
    run_a = make_run(workspace, "widgets", "/m", run_id="20261122-010000-widgets-aaaa")
    run_b = make_run(workspace, "widgets", "/m", run_id="20261122-020000-widgets-bbbb")
    a1, a2 = add_samples(workspace, run_a)
    add_samples(workspace, run_b, n=1)
    db = workspace.catalog()
    set_verdict(db, a1, "accept", score=5, note="great | tidy")
    set_verdict(db, a2, "reject", score=2)
    text = render_report(db, [run_a, "20261122-0200"])  # a unique prefix works too
    db.close()
    assert text.startswith("# Sample review\n")
    assert f"| {run_a} | widgets | 2 | 1 | 1 | 0 | 3.50 (2) | 0 | 10 | 12 |" in text
    assert f"| {run_b} | widgets | 1 | 0 | 0 | 1 | - (0) | 0 | 10 | 12 |" in text
    assert f"### Sample {a1}: weather (test)" in text
    assert "**Verdict:** accept, score 5/5" in text and "**Note:** great | tidy" in text
    assert "best validation loss 1.2500 at iteration 20" in text
    assert "```jsx\n// File: index.jsx\nexport const command = 'curl wttr.in/Lisbon'" in text
    assert WIDGETS[3][2] in text  # the cpu prompt


@pytest.mark.mlx
def test_cancelled_sampling_stores_nothing_and_stops_the_child(
    workspace: Workspace, review_model_dir: Path, tiny_adapter_dir: Path
) -> None:
    import threading

    from graftwork.adapters.mlx.generate import run_generation
    from graftwork.core.base.jobs import Cancelled, run_job

    make_set(workspace)
    run_id = make_run(workspace, "widgets", str(review_model_dir), tiny_adapter_dir)
    cancel = threading.Event()

    def listen(event) -> None:
        if event.type == "log" and "base model loaded" in event.message:
            cancel.set()  # what the Runs pane's cancel does

    db = workspace.catalog()
    with pytest.raises(Cancelled):
        run_job(
            db,
            "sample",
            lambda job: sample_run(
                workspace, run_id, SampleSettings(max_tokens=400), generate=run_generation, job=job
            ),
            listeners=[listen],
            cancel_event=cancel,
        )
    assert next(db.query("select state from jobs where kind = 'sample'"))["state"] == "cancelled"
    db.close()
    assert sample_rows(workspace, run_id) == []
