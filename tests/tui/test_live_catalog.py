"""A live catalog: changes written by another connection (a CLI in another terminal, the
teacher, another window) show in every pane within a second, keeping the cursor, the
selection and an edit in progress. The writer here is a real second SQLite connection."""

from __future__ import annotations

from graftwork.core.curate.curation import set_decision
from graftwork.core.prompts.prompts import add_revision, history
from graftwork.tui.widgets import prompt_pane
from tests.tui.helpers import main_screen, settle, until


async def test_external_decision_shows_without_moving_the_cursor(make_app, fixture_ws) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("down")  # the second row
        await until(pilot, lambda: screen.selected_id is not None)
        table = screen.widgets_pane.query_one("#widgets-table")
        cursor, selected = table.cursor, screen.selected_id
        target = next(r.id for r in screen.widgets_pane.shown if r.id != selected)
        with fixture_ws.catalog() as db:
            set_decision(db, target, "exclude", "seen from outside")
            # (bench/bench_live.py measures the delay; here a loaded CI machine gets slack:
            # until() waits up to 30 s)
            await until(pilot, lambda: screen.rows[target].decision == "exclude")
            # a second change appears too (the old code showed only the first, and only on reselect)
            set_decision(db, target, "include")
            await until(pilot, lambda: screen.rows[target].decision == "include")
            # the selected item's detail follows, without reselecting
            set_decision(db, selected, "needs_work", "outside note")
            detail = screen.query_one("#widgets-detail")
            await until(
                pilot,
                lambda: detail.detail is not None and detail.detail.note == "outside note",
            )
        assert table.cursor == cursor and screen.selected_id == selected
        assert screen.widgets_pane.by_id[target].decision == "include"


async def test_external_revision_loads_into_an_untouched_editor(make_app, fixture_ws) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.prompt_pane
        await until(pilot, lambda: pane.item_id == "clock" and len(pane.revisions) == 2)
        with fixture_ws.catalog() as db:
            add_revision(db, "clock", "A clock set from the CLI.", origin="manual")
        await until(pilot, lambda: pane.editor.text == "A clock set from the CLI.")
        assert pane.base_rev == 3 and "r3" in str(pane.query_one("#prompt-title").render())


async def test_external_revision_keeps_an_edit_in_progress(
    make_app, fixture_ws, monkeypatch
) -> None:
    monkeypatch.setattr(prompt_pane, "AUTOSAVE_SECONDS", 30.0)  # the edit stays unsaved here
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = screen.prompt_pane
        await until(pilot, lambda: pane.item_id == "clock" and len(pane.revisions) == 2)
        await pilot.press("2", *"Z")  # typing: autosave not yet due
        typed = pane.editor.text
        with fixture_ws.catalog() as db:
            add_revision(db, "clock", "Theirs.", origin="manual")
        await until(pilot, lambda: len(pane.revisions) == 3)
        assert pane.editor.text == typed and pane.base_rev == 2
        assert "r3 was saved meanwhile" in str(pane.query_one("#prompt-title").render())


async def _conflict(pilot, screen, fixture_ws):
    """Type in clock's prompt, let the "CLI" save r3 meanwhile, then save: the conflict."""
    from graftwork.tui.screens.modals import ConflictModal

    pane = screen.prompt_pane
    await until(pilot, lambda: pane.item_id == "clock" and len(pane.revisions) == 2)
    await pilot.press("2", *"Z")
    with fixture_ws.catalog() as db:
        add_revision(db, "clock", "Theirs from the CLI.", origin="manual")
    await until(pilot, lambda: len(pane.revisions) == 3)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: isinstance(pilot.app.screen, ConflictModal))
    shown = str(pilot.app.screen.query_one("#conflict-theirs").render())
    assert "Theirs from the CLI." in shown
    return pane


async def test_save_on_a_newer_revision_keep_mine(make_app, fixture_ws, monkeypatch) -> None:
    monkeypatch.setattr(prompt_pane, "AUTOSAVE_SECONDS", 30.0)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = await _conflict(pilot, screen, fixture_ws)
        mine = pane.editor.text
        await pilot.press("m")
        await until(pilot, lambda: len(pane.revisions) == 4 and not pane.dirty)
        assert "r4" in str(pane.query_one("#prompt-title").render())
    revs = history(fixture_ws.catalog(), "clock")
    assert [r["text"] for r in revs[-2:]] == ["Theirs from the CLI.", mine]  # nothing lost


async def test_save_on_a_newer_revision_take_theirs(make_app, fixture_ws, monkeypatch) -> None:
    monkeypatch.setattr(prompt_pane, "AUTOSAVE_SECONDS", 30.0)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = await _conflict(pilot, screen, fixture_ws)
        await pilot.press("t")
        await until(pilot, lambda: pane.editor.text == "Theirs from the CLI." and not pane.dirty)
        assert pane.base_rev == 3
    assert len(history(fixture_ws.catalog(), "clock")) == 3


async def test_save_on_a_newer_revision_merge_by_hand(make_app, fixture_ws, monkeypatch) -> None:
    monkeypatch.setattr(prompt_pane, "AUTOSAVE_SECONDS", 30.0)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        pane = await _conflict(pilot, screen, fixture_ws)
        await pilot.press("e")
        await until(pilot, lambda: pane.merging and "=======" in pane.editor.text)
        await pilot.press("ctrl+s")  # markers still there: not saved
        await settle(pilot)
        assert len(history(fixture_ws.catalog(), "clock")) == 3 and "merge" in pane.gauge.note
        pane.editor.load_text("Merged by hand.")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: len(pane.revisions) == 4 and not pane.dirty)
    assert history(fixture_ws.catalog(), "clock")[-1]["text"] == "Merged by hand."


def test_a_refresh_reads_only_the_changed_rows(fixture_ws) -> None:
    """The fixture's rows share one stamp (as after one budget run): a change must not make
    every row look changed (it did, and each refresh reloaded the whole catalog)."""
    from graftwork.tui.data import catalog_marks, changed_items

    later = "2026-11-20T11:00:00.000+00:00"
    with fixture_ws.catalog() as db:
        marks = catalog_marks(db)
        set_decision(db, "clock", "exclude")
        ids, marks = changed_items(db, marks)
        assert ids == ["clock"]
        with db.conn:
            db.execute("update budget set computed_at = ? where item_id = 'huge'", [later])
        ids, marks = changed_items(db, marks)
        assert ids == ["huge"]
        # another row stamped in the same millisecond as the newest: read again, not missed
        with db.conn:
            db.execute("update budget set computed_at = ? where item_id = 'spam'", [later])
        ids, marks = changed_items(db, marks)
        assert set(ids) == {"huge", "spam"}
        ids, marks = changed_items(db, marks)
        assert ids == []
