"""Pilot tests of the Review screen in a tiny test app: keyboard verdicts land in the catalog."""

from __future__ import annotations

import pytest
from support import review_world
from support.review_world import add_samples, make_run, make_set, sample_rows
from textual.app import App
from textual.widgets import Static

from graftwork.core.base.workspace import Workspace
from graftwork.tui.training.review_screen import NoteModal, ReviewScreen
from tests.tui.helpers import until

review_model_dir = review_world.review_model_dir  # session fixtures
tiny_adapter_dir = review_world.tiny_adapter_dir


class ReviewApp(App[None]):
    def __init__(self, ws: Workspace, run_id: str, sample=None, evaluate=None) -> None:
        super().__init__()
        self.ws, self.run_id, self.sample, self.evaluate = ws, run_id, sample, evaluate
        self.jumped: list[str] = []
        self.dismissed: list[str | None] = []

    def on_mount(self) -> None:
        self.push_screen(
            ReviewScreen(self.ws, self.run_id, self.sample, self.evaluate), self.dismissed.append
        )

    def on_review_screen_jump_to_item(self, message: ReviewScreen.JumpToItem) -> None:
        self.jumped.append(message.item_id)


def _world(ws: Workspace) -> tuple[str, list[int]]:
    make_set(ws)
    run_id = make_run(ws, "widgets", "/m")
    return run_id, add_samples(ws, run_id)


def _screen(app: App) -> ReviewScreen:
    assert isinstance(app.screen, ReviewScreen)
    return app.screen


def _review(ws: Workspace, run_id: str, sample_id: int) -> dict:
    return next(r for r in sample_rows(ws, run_id) if r["id"] == sample_id)


async def test_shows_reference_base_and_adapter_side_by_side(workspace: Workspace) -> None:
    run_id, _ = _world(workspace)
    app = ReviewApp(workspace, run_id)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(
            pilot, lambda: bool(isinstance(app.screen, ReviewScreen) and app.screen.samples)
        )
        screen = _screen(app)
        assert "Current weather for Lisbon." in str(
            screen.query_one("#review-prompt", Static).render()
        )
        assert "curl wttr.in/Lisbon" in str(
            screen.query_one("#code-reference", Static).content.code
        )
        assert screen.query_one("#code-base", Static).content.code == "base gibberish 0"
        assert "echo 0" in screen.query_one("#code-adapter", Static).content.code
        await pilot.press("j")
        assert screen.index == 1 and "CPU load" in str(
            screen.query_one("#review-prompt", Static).render()
        )


async def test_a_accepts_score_and_note_are_stored(workspace: Workspace) -> None:
    run_id, (first, second) = _world(workspace)
    app = ReviewApp(workspace, run_id)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(
            pilot, lambda: bool(isinstance(app.screen, ReviewScreen) and app.screen.samples)
        )
        await pilot.press("a")
        await until(pilot, lambda: _review(workspace, run_id, first)["verdict"] == "accept")
        await pilot.press("4")
        await until(pilot, lambda: _review(workspace, run_id, first)["score"] == 4)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NoteModal))
        await pilot.press(*"tidy", "enter")
        await until(pilot, lambda: _review(workspace, run_id, first)["note"] == "tidy")
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("down", "r")
        await until(pilot, lambda: _review(workspace, run_id, second)["verdict"] == "reject")
        screen = _screen(app)
        # the catalog is written before the screen hears back (call_from_thread): wait for it
        await until(pilot, lambda: [s["verdict"] for s in screen.samples] == ["accept", "reject"])
        assert "reject" in str(screen.query_one("#review-status", Static).render())


async def test_promote_and_jump_to_the_widget(workspace: Workspace) -> None:
    run_id, (first, _) = _world(workspace)
    app = ReviewApp(workspace, run_id)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(
            pilot, lambda: bool(isinstance(app.screen, ReviewScreen) and app.screen.samples)
        )
        await pilot.press("a")
        await until(pilot, lambda: _review(workspace, run_id, first)["verdict"] == "accept")
        await pilot.press("p")
        await until(pilot, lambda: _review(workspace, run_id, first)["promoted"] == 1)
        db = workspace.catalog()
        assert db["items"].get(f"weather__gen{first}")["source"] == "generated"
        db.close()
        await pilot.press("w")
        await until(pilot, lambda: app.jumped == ["weather"])
        assert app.dismissed == ["weather"] and not isinstance(app.screen, ReviewScreen)


async def test_a_run_without_samples_says_what_to_do(workspace: Workspace) -> None:
    make_set(workspace)
    run_id = make_run(workspace, "widgets", "/m")
    app = ReviewApp(workspace, run_id)
    async with app.run_test(size=(120, 30)) as pilot:
        await until(
            pilot,
            lambda: (
                "No samples yet" in str(app.screen.query_one("#review-prompt", Static).render())
            ),
        )
        await pilot.press("a")  # nothing to judge: no error
        await pilot.press("s")  # no sampler given: says how to sample from a terminal
        await until(
            pilot,
            lambda: (
                "graftwork sample --run"
                in str(app.screen.query_one("#review-status", Static).render())
            ),
        )
        await pilot.press("escape")
        await until(pilot, lambda: app.dismissed == [None])


@pytest.mark.mlx
async def test_s_samples_the_run_from_the_screen(
    workspace: Workspace, review_model_dir, tiny_adapter_dir
) -> None:
    from graftwork.core.stages import run_stage

    make_set(workspace)
    run_id = make_run(workspace, "widgets", str(review_model_dir), tiny_adapter_dir)
    app = ReviewApp(
        workspace,
        run_id,
        sample=lambda rid: run_stage(workspace, "sample", {"run_id": rid, "n": 1, "max_tokens": 6}),
    )
    async with app.run_test(size=(140, 40)) as pilot:
        await until(
            pilot,
            lambda: (
                "press s to sample" in str(app.screen.query_one("#review-prompt", Static).render())
            ),
        )
        await pilot.press("s")
        await until(pilot, lambda: len(_screen(app).samples) == 1, timeout=120)
        assert _screen(app).samples[0]["item_id"] == "weather"
        assert "stored 1 new sample(s)" in str(
            app.screen.query_one("#review-status", Static).render()
        )
        await pilot.press("a")
        await until(pilot, lambda: sample_rows(workspace, run_id)[0]["verdict"] == "accept")


async def test_shows_the_runs_eval_scores_and_each_answers_checks(workspace: Workspace) -> None:
    import json

    from support.eval_world import evaluate_suite, scripted, stub_run

    workspace.config_path.write_text("recipe: templates\n")  # its metric: exact match
    suite = workspace.root / "words.jsonl"
    suite.write_text(
        "".join(
            json.dumps({"id": f"w{i}", "prompt": f"Spell word {i}", "reference": f"w o r d {i}"})
            + "\n"
            for i in range(2)
        )
    )
    run_id = stub_run(workspace, "words")
    answers = scripted(lambda which, i: "no idea" if which == "base" else f"w o r d {i}")
    evaluate_suite(workspace, run_id, str(suite), answers)
    app = ReviewApp(workspace, run_id)
    async with app.run_test(size=(160, 40)) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, ReviewScreen) and bool(app.screen.samples)
        )
        screen = _screen(app)
        scores = str(screen.query_one("#review-scores", Static).render())
        assert "suite:words.jsonl" in scores and "exact_match 0.0% → 100.0%" in scores
        assert str(screen.query_one("#checks-base", Static).render()).strip() == "✗ exact_match"
        assert str(screen.query_one("#checks-adapter", Static).render()).strip() == "✓ exact_match"


async def test_says_how_to_evaluate_a_run_without_scores(workspace: Workspace) -> None:
    run_id, _ = _world(workspace)
    app = ReviewApp(workspace, run_id)
    async with app.run_test(size=(140, 40)) as pilot:
        await until(
            pilot, lambda: isinstance(app.screen, ReviewScreen) and bool(app.screen.samples)
        )
        scores = str(_screen(app).query_one("#review-scores", Static).render())
        assert scores == f"No evaluation yet: graftwork eval --run {run_id}"


async def test_e_evaluates_the_run_and_shows_its_scores(workspace: Workspace) -> None:
    import json

    from support.eval_world import evaluate_suite, scripted, stub_run

    workspace.config_path.write_text("recipe: templates\n")
    suite = workspace.root / "words.jsonl"
    suite.write_text(json.dumps({"id": "w0", "prompt": "Spell cat", "reference": "c a t"}) + "\n")
    run_id = stub_run(workspace, "words")
    answers = scripted(lambda which, i: "c a t")
    # the app passes the registry's eval stage; here a scripted stand-in for its mlx child
    app = ReviewApp(
        workspace, run_id, evaluate=lambda rid: evaluate_suite(workspace, rid, str(suite), answers)
    )
    async with app.run_test(size=(140, 40)) as pilot:
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen))
        await until(
            pilot,
            lambda: (
                "No evaluation yet" in str(app.screen.query_one("#review-scores", Static).render())
            ),
        )
        await pilot.press("e")
        await until(pilot, lambda: len(_screen(app).samples) == 1)
        await until(
            pilot,
            lambda: (
                "exact_match 100.0% → 100.0%"
                in str(app.screen.query_one("#review-scores", Static).render())
            ),
        )
        assert "evaluated 1 example(s)" in str(
            app.screen.query_one("#review-status", Static).render()
        )
