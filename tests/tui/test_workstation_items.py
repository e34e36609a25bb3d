"""Issue 10's workstation items: clearing a decision, honest quick filters, the train form,
a build form with a real default name."""

from __future__ import annotations

import pytest

from graftwork.core.curate.curation import decision_history, get_decision, set_decision
from graftwork.tui.screens import modals
from graftwork.tui.widgets.widgets_pane import QUICK_FILTERS
from tests.tui.helpers import main_screen, until


async def test_u_clears_the_decision_and_the_history_keeps_it(make_app, fixture_ws) -> None:
    with fixture_ws.catalog() as db:
        set_decision(db, "clock", "exclude", "too plain")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await until(pilot, lambda: screen.selected_id == "clock")
        await pilot.press("u")
        await until(pilot, lambda: screen.rows["clock"].decision == "—")
    with fixture_ws.catalog() as db:
        assert get_decision(db, "clock") is None
        assert decision_history(db, "clock")[-1]["decision"] == "cleared"


def test_quick_filters_match_what_build_does(make_app) -> None:
    from graftwork.tui.data import WidgetRow

    def row(**kw: object) -> WidgetRow:
        base = dict(id="x", name="", author="", kind="jsx", download="ok", prompt="—")
        base.update(tokens=None, action="—", decision="—")
        base.update(kw)
        return WidgetRow(**base)  # type: ignore[arg-type]

    no_prompt, excluded = QUICK_FILTERS["no_prompt"][1], QUICK_FILTERS["excluded"][1]
    assert no_prompt(row()) and not no_prompt(row(kind="coffee"))  # never gets a prompt
    assert excluded(row(action="exclude")) and excluded(row(decision="exclude"))
    assert QUICK_FILTERS["needs_work"][0] == "needs work"


def test_train_form_values_become_the_train_stage_parameters() -> None:
    params = modals.train_params(
        {
            "set_name": "v1",
            "resume": "",
            "model": "",
            "iters": "200",
            "batch_size": "1",
            "learning_rate": "1e-4",
            "max_seq_length": "",
            "drop_long": True,
        }
    )
    assert params == {
        "set_name": "v1",
        "overrides": {"iters": 200, "batch_size": 1, "learning_rate": 1e-4},
        "resume": None,
        "drop_long": True,
    }
    assert modals.train_params({"set_name": "", "resume": "2026"})["resume"] == "2026"
    with pytest.raises(ValueError, match="Iterations: 'many' is not a number"):
        modals.train_params({"set_name": "v1", "iters": "many"})
    with pytest.raises(ValueError, match="not both"):
        modals.train_params({"set_name": "v1", "resume": "r"})


async def test_build_form_offers_the_next_free_set_name(make_app, fixture_ws) -> None:
    for name in ("v1", "v2"):
        (fixture_ws.datasets_dir / name).mkdir(parents=True, exist_ok=True)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        screen.action_start("build")
        await until(pilot, lambda: bool(app.screen.query("#f-set_name")))
        assert app.screen.query_one("#f-set_name").value == "v3"
