"""A stopped evaluation continues where it stopped: every generation and loss pass is recorded
as it finishes, a rerun with the same settings generates only what is missing and stores
exactly what an uninterrupted evaluation stores; a changed setting starts fresh (one line).

The generator is scripted (a stand-in for the mlx child process, which dies here by raising
after a given number of events); tests/test_kill_resume.py SIGKILLs the real one."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from support.eval_world import evaluate_suite, stub_run

from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.workspace import Workspace

N = 5


class Generator:
    """Answers like a model (loss pass first, then base, then adapter); ``die_after`` events
    it raises instead, as a killed child would end the stage. Records what it was asked."""

    def __init__(self, die_after: int | None = None) -> None:
        self.die_after = die_after
        self.generated: list[tuple[str, str]] = []
        self.losses: list[str] = []
        self.skip: dict[str, list[str]] = {}

    def __call__(
        self,
        model: str,
        adapter: str | None,
        prompts: list[dict[str, Any]],
        *,
        on_event: Any,
        loss: dict[str, Any] | None = None,
        skip: dict[str, list[str]] | None = None,
        **_: Any,
    ) -> None:
        self.skip = skip or {}
        sent = 0

        def emit(event: dict[str, Any]) -> None:
            nonlocal sent
            if self.die_after is not None and sent >= self.die_after:
                raise GraftworkError("generation failed: the child was killed")
            on_event(event)
            sent += 1

        for which in ("base", "adapter"):
            if loss and which not in loss.get("skip", []):
                self.losses.append(which)
                emit(
                    {
                        "type": "loss",
                        "which": which,
                        "loss": 1.5 if which == "base" else 0.5,
                        "tokens": 40,
                        "examples": len(loss["records"]),
                        "ms": 3.0,
                    }
                )
            for i, p in enumerate(prompts):
                if p["key"] in self.skip.get(which, ()):
                    continue
                self.generated.append((which, p["key"]))
                text = "?" if which == "base" else f"w o r d {i}"
                emit(
                    {
                        "type": "sample",
                        "which": which,
                        "key": p["key"],
                        "text": text,
                        "ms": 5.0,
                        "tokens": 4,
                    }
                )


def _world(ws: Workspace) -> tuple[str, str]:
    ws.config_path.write_text("recipe: templates\n")  # its metric: exact match
    suite = ws.root / "words.jsonl"
    suite.write_text(
        "".join(
            json.dumps({"id": f"w{i}", "prompt": f"Spell word {i}", "reference": f"w o r d {i}"})
            + "\n"
            for i in range(N)
        )
    )
    return stub_run(ws, "words"), str(suite)


def _stored(ws: Workspace) -> dict[str, Any]:
    """What an evaluation leaves, without ids and times."""
    with ws.catalog() as db:
        return {
            "items": db.execute(
                "select item_id, model, metrics from eval_items order by id"
            ).fetchall(),
            "results": db.execute(
                "select model, metric, value, n, source from eval_results "
                "where metric != 'tokens_per_sec' order by id"
            ).fetchall(),
            "samples": db.execute(
                "select item_id, base_output, adapter_output from samples order by id"
            ).fetchall(),
            "evaluations": db.execute(
                "select count(distinct eval_id) from eval_results"
            ).fetchone()[0],
            "pending": db.execute(
                "select (select count(*) from eval_pending) + (select count(*) from eval_progress)"
            ).fetchone()[0],
        }


@pytest.mark.parametrize("die_after", [0, 3, 1 + N + 2, 2 + 2 * N - 1])
def test_a_stopped_evaluation_continues_to_the_uninterrupted_result(
    tmp_path: Path, die_after: int
) -> None:
    ref_ws = Workspace.init(tmp_path / "ref")
    ref_run, ref_suite = _world(ref_ws)
    evaluate_suite(ref_ws, ref_run, ref_suite, Generator())
    ws = Workspace.init(tmp_path / "ws")
    run_id, suite = _world(ws)
    with pytest.raises(GraftworkError, match="killed"):
        evaluate_suite(ws, run_id, suite, Generator(die_after=die_after))
    with ws.catalog() as db:  # nothing of the evaluation is visible yet
        assert db.execute("select count(*) from eval_results").fetchone()[0] == 0
        assert db.execute("select count(*) from samples").fetchone()[0] == 0
    assert not (ws.runs_dir / run_id / "eval_words.md").exists()
    again = Generator()
    result = evaluate_suite(ws, run_id, suite, again)
    # only what the first try did not finish: each generation and loss pass happens once
    assert len(again.generated) + len(again.losses) == 2 * N + 2 - die_after
    delivered = _delivered(die_after)
    for which in ("base", "adapter"):
        assert again.skip[which] == sorted(k for w, k in delivered if w == which)
    assert result.summary["continued"] == len(delivered)
    assert _stored(ws) == _stored(ref_ws)
    assert _stored(ws)["pending"] == 0 and _stored(ws)["evaluations"] == 1
    assert result.summary["scores"]["exact_match"] == {"base": 0.0, "adapter": 1.0}
    assert (ws.runs_dir / run_id / "eval_words.md").is_file()


def _delivered(count: int) -> list[tuple[str, str]]:
    """The (model, key) samples among the first ``count`` events of an uninterrupted run."""
    order: list[tuple[str, str]] = []
    for which in ("base", "adapter"):
        order.append((which, "loss"))
        order += [(which, f"k{i}") for i in range(N)]
    return [e for e in order[:count] if e[1] != "loss"]


def test_a_changed_setting_starts_fresh_and_says_so(workspace: Workspace) -> None:
    run_id, suite = _world(workspace)
    with pytest.raises(GraftworkError, match="killed"):
        evaluate_suite(workspace, run_id, suite, Generator(die_after=4))
    again = Generator()
    evaluate_suite(workspace, run_id, suite, again, seed=7)
    assert again.skip == {"base": [], "adapter": []} and len(again.generated) == 2 * N
    with workspace.catalog() as db:
        lines = [
            r[0]
            for r in db.execute(
                "select message from job_logs where message like '%starting fresh%' "
                "and level = 'warning'"
            )
        ]
        assert _stored(workspace)["pending"] == 0
    assert lines == [
        f"the unfinished evaluation of run {run_id} used other settings (seed 0 → 7); "
        "starting fresh"
    ]


def test_the_same_evaluation_twice_at_once_is_stored_once(workspace: Workspace) -> None:
    """A second process starts the same evaluation while the first runs (here: from inside
    the first one's generator, deterministically): it continues the shared progress and stores
    the evaluation; the first then says so in one line instead of storing it again."""
    run_id, suite = _world(workspace)
    inner = Generator()

    class Interleaved(Generator):
        def __call__(self, *args: Any, on_event: Any, **kw: Any) -> None:
            def first_then_other(event: dict[str, Any]) -> None:
                on_event(event)
                if event.get("key") == "k1" and event["which"] == "base":
                    evaluate_suite(workspace, run_id, suite, inner)

            super().__call__(*args, on_event=first_then_other, **kw)

    with pytest.raises(GraftworkError, match="finished or discarded by another process"):
        evaluate_suite(workspace, run_id, suite, Interleaved())
    assert inner.skip["base"] == ["k0", "k1"]  # it went on from the shared progress
    stored = _stored(workspace)
    assert stored["evaluations"] == 1 and stored["pending"] == 0
    assert len(stored["samples"]) == N
