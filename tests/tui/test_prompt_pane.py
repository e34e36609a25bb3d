"""Prompt pane: autosaved revisions, live gauge feeding the budget, restore, template, quit."""

from __future__ import annotations

from graftwork.core.prompts.prompts import history
from tests.tui.helpers import main_screen, settle, until


async def test_edit_prompt_changes_budget_and_stores_revision(make_app, fixture_ws) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await until(pilot, lambda: screen.prompt_pane.item_id == "clock")
        await until(pilot, lambda: screen.prompt_pane.gauge.total is not None)
        before = screen.prompt_pane.gauge.total
        await pilot.press("2")
        assert screen.prompt_pane.editor.has_focus
        screen.prompt_pane.editor.move_cursor(screen.prompt_pane.editor.document.end)
        keys = [k if k != " " else "space" for k in " with a seconds hand 東京"]
        await pilot.press(*keys)
        assert screen.prompt_pane.editor.text.endswith("digits. with a seconds hand 東京")
        # the fake counter counts words: five more
        await until(pilot, lambda: screen.prompt_pane.gauge.total == before + 5)
        # the live count flows into the Budget pane and the Widgets table
        assert screen.rows["clock"].tokens == before + 5
        assert screen.budget_pane.query_one("#budget-bar").parts["user"] == len(
            screen.prompt_pane.editor.text.split()
        )
        await until(pilot, lambda: len(screen.prompt_pane.revisions) == 3)
        await settle(pilot)
    db = fixture_ws.catalog()
    revs = history(db, "clock")
    assert revs[-1]["text"].endswith("seconds hand 東京") and revs[-1]["origin"] == "tui"
    assert len(revs) == 3  # one debounced save for the whole burst of keystrokes


async def test_quit_saves_pending_edit(make_app, fixture_ws) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await until(pilot, lambda: screen.prompt_pane.item_id == "clock")
        await pilot.press("f3", *"X")  # typed, then quit before the autosave fires
        await pilot.press("ctrl+q")
    db = fixture_ws.catalog()
    assert history(db, "clock")[-1]["text"].endswith("digits.X")  # the editor opens at the end


async def test_restore_revision_and_diff(make_app, fixture_ws) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.prompt_pane
        await until(pilot, lambda: pane.item_id == "clock" and len(pane.revisions) == 2)
        await pilot.press("2", "tab")  # revision list
        await pilot.press("end")  # r1: the list is newest first
        diff = str(pane.query_one("#prompt-diff").render())
        assert "-Create an Übersicht widget." in diff
        await pilot.press("ctrl+r")
        await until(pilot, lambda: len(pane.revisions) == 3)
        assert pane.editor.text == "Create an Übersicht widget."
    revs = history(fixture_ws.catalog(), "clock")
    assert revs[-1]["note"] == "restored r1" and revs[-1]["text"] == revs[0]["text"]


async def test_template_draft_inserted(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.prompt_pane
        screen.widgets_pane.query_one("#widgets-table").move_cursor(row=6)  # "nope": no prompt
        await until(pilot, lambda: pane.item_id == "nope")
        assert pane.editor.text == ""
        await pilot.press("2", "ctrl+t")
        await until(pilot, lambda: pane.editor.text.startswith("Create an Übersicht widget"))


async def test_teacher_draft_shown_as_diff_and_accepted(make_app, fixture_ws) -> None:
    proposals: list[str] = []

    def teacher_draft(item_id: str) -> dict:
        proposals.append(item_id)
        return {"item_id": item_id, "text": "Create a clock widget, improved by the teacher."}

    # the teacher area's accept function is not used here: the pane stores the revision
    app = make_app(teacher_draft=teacher_draft, accept_teacher_draft=None)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.prompt_pane
        await until(pilot, lambda: pane.item_id == "clock")
        await pilot.press("2", "ctrl+g")
        await until(pilot, lambda: pane.proposal is not None)
        assert "+Create a clock widget, improved" in str(pane.query_one("#prompt-diff").render())
        await pilot.press("ctrl+o")
        await until(pilot, lambda: len(pane.revisions) == 3)
        assert proposals == ["clock"]
    last = history(fixture_ws.catalog(), "clock")[-1]
    assert last["origin"] == "teacher" and "improved by the teacher" in last["text"]


async def test_emoji_prompt_round_trips(make_app, fixture_ws) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.prompt_pane
        screen.widgets_pane.query_one("#widgets-table").move_cursor(row=2)
        await until(pilot, lambda: pane.item_id == "weather")
        await pilot.press("2", "end", *"🌈")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(pane.revisions) == 3)
    assert history(fixture_ws.catalog(), "weather")[-1]["text"].endswith("with emoji.🌈")


async def test_editor_opens_at_the_end_and_ctrl_home_end_move(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot)
        editor = screen.prompt_pane.editor
        await until(pilot, lambda: screen.prompt_pane.item_id == "clock")
        await pilot.press("2")
        assert editor.cursor_location == editor.document.end  # typing continues the prompt
        await pilot.press("ctrl+home")
        assert editor.cursor_location == (0, 0)
        await pilot.press("ctrl+end")
        assert editor.cursor_location == editor.document.end


async def test_ctrl_s_without_changes_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.prompt_pane
        await until(pilot, lambda: pane.item_id == "clock")
        await pilot.press("2", "ctrl+s")
        await until(pilot, lambda: any("nothing to save" in n.message for n in app._notifications))
        assert [n.message for n in app._notifications][
            -1
        ] == "clock: nothing to save, r2 is current"
        await pilot.press("!", "ctrl+s")  # an edit is saved and named
        await until(pilot, lambda: any("saved r3" in n.message for n in app._notifications))


async def test_failed_save_is_reported_and_retried(make_app, fixture_ws) -> None:
    from graftwork.core.prompts.prompts import add_revision

    calls: list[str] = []

    def flaky(db, item_id, text, **kw):
        calls.append(text)
        if len(calls) == 1:
            raise OSError("disk full")
        return add_revision(db, item_id, text, **kw)

    app = make_app(add_revision=flaky)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.prompt_pane
        await until(pilot, lambda: pane.item_id == "clock")
        await pilot.press("2", "ctrl+home", "Z", "ctrl+s")
        await until(pilot, lambda: any("disk full" in n.message for n in app._notifications))
        assert pane.dirty  # nothing pretended to be saved
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not pane.dirty)
    assert history(fixture_ws.catalog(), "clock")[-1]["text"].startswith("Z")


async def test_counter_failure_shows_in_the_gauge(make_app) -> None:
    from graftwork.core.base.errors import GraftworkError

    def no_counter():  # a stand-in for a tokenizer that cannot load
        raise GraftworkError("the token counter is not available yet")

    app = make_app(token_counter=no_counter)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.prompt_pane
        await until(pilot, lambda: "not available yet" in pane.gauge.note)
        assert "not available yet" in str(pane.gauge.render())
        assert app.is_running
