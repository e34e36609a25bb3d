"""LineEditor repaints only the lines a keystroke touches: after every kind of edit and cursor
move, the lines the widget keeps for the screen must equal a fresh render of every line (a
line it forgot to repaint would show old text or an old cursor)."""

from __future__ import annotations

from textual.app import App, ComposeResult
from textual.geometry import Region
from textual.strip import Strip

from graftwork.tui.widgets.line_editor import LineEditor

TEXT = (
    "A clock widget for the menu bar (shows hours and minutes).\n"
    "Second paragraph that wraps over a few lines at this width, with [brackets] inside.\n"
    "Third."
)


class EditorApp(App[None]):
    def compose(self) -> ComposeResult:
        yield LineEditor(TEXT, soft_wrap=True, id="editor")


def _lines(editor: LineEditor) -> list[list[object]]:
    strips: list[Strip] = editor.render_lines(Region(0, 0, *editor.outer_size))
    return [list(strip) for strip in strips]


async def _assert_screen_is_fresh(pilot, editor: LineEditor) -> None:
    await pilot.pause()
    shown = _lines(editor)  # what the compositor was given (cached unless marked dirty)
    editor._styles_cache.clear()
    editor._line_cache.clear()
    editor._css_for = None  # the theme's styles worked out anew too
    assert shown == _lines(editor)


async def test_every_edit_and_move_leaves_the_screen_as_a_fresh_render() -> None:
    app = EditorApp()
    async with app.run_test(size=(40, 16)) as pilot:
        editor = app.query_one(LineEditor)
        editor.cursor_blink = False  # the cursor is drawn steadily: both renders agree
        editor.focus()
        editor.move_cursor((1, 10))
        await _assert_screen_is_fresh(pilot, editor)
        steps: list[tuple[str, ...]] = [
            tuple("typed"),  # inside one row
            tuple("x" * 30),  # the row now wraps to one more line
            ("backspace",) * 31,  # and back
            ("up", "up", "down", "end", "home"),  # cursor moves across rows
            ("shift+down", "shift+right", "shift+right"),  # a selection over rows
            ("delete",),  # deleting it joins rows
            ("enter", *"new row", "enter"),  # rows come
            ("ctrl+z",),  # undo
            ("ctrl+y",),  # redo
            ("left", "backspace"),  # joining a row with the one above
            ("ctrl+a",),  # select everything
        ]
        for keys in steps:
            await pilot.press(*keys)
            await _assert_screen_is_fresh(pilot, editor)
        editor.load_text(TEXT.replace("clock", "watch"))  # a new document, same shape
        await _assert_screen_is_fresh(pilot, editor)
        editor.move_cursor((1, 5))
        editor.insert("(")  # a bracket highlight on another row
        await _assert_screen_is_fresh(pilot, editor)
        editor.insert("Z", location=(2, 0))  # an edit away from the cursor
        await _assert_screen_is_fresh(pilot, editor)
        editor.blur()  # the cursor line and the cursor are styled for focus
        await _assert_screen_is_fresh(pilot, editor)
        app.theme = "textual-light"  # the app's theme
        await _assert_screen_is_fresh(pilot, editor)
        assert "watch" in editor.text and "(" in editor.text
