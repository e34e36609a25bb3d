"""A TextArea that repaints only the lines a keystroke touches.

Textual's TextArea repaints every visible line whenever the cursor moves (its ``selection``
is a repainting reactive), so typing one character into a soft-wrapped prompt of 30 lines
re-renders all 30 lines and their styles: most of a keystroke's time, and what made typing
miss 50 ms while the catalog refreshed (bench/bench_live.py). Here a cursor move repaints the
rows of the old and new selection (and of a matching bracket), an edit inside one row
repaints that row; everything else repaints the whole widget as before: an edit over several
rows, a row that now wraps to more or fewer lines (the virtual size changes: Textual repaints
and lays out), undo and redo, a new document, a rewrap, scrolling, styles, focus.
TextArea also works its theme out of the CSS again on every render (a dozen component-style
lookups); here only when the widget's style, focus, theme or the app's theme changed.
Written against textual 8.2.8 (pinned in pyproject.toml); tests/tui/test_line_editor.py
checks that the lines on screen always equal a fresh render."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from textual.document._document import Selection
from textual.document._edit import Edit
from textual.geometry import Region
from textual.reactive import Reactive, reactive
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import TextArea
from textual.widgets.text_area import EditResult


class LineEditor(TextArea):
    # the same reactive as TextArea's, without its repaint of every line (see the module doc)
    selection: Reactive[Selection] = reactive(
        Selection(), init=False, always_update=True, repaint=False
    )

    _css_for: tuple[object, ...] | None = None  # what the theme's CSS was worked out for

    def render_lines(self, crop: Region) -> list[Strip]:
        theme = self._theme
        if theme:
            key = (id(theme), self.app.current_theme.name, self.has_focus, self.rich_style)
            if key != self._css_for:
                theme.apply_css(self)
                self._css_for = key
        return Widget.render_lines(self, crop)  # TextArea's own would apply the CSS again

    def notify_style_update(self) -> None:
        self._css_for = None
        super().notify_style_update()

    def _watch_selection(self, previous_selection: Selection, selection: Selection) -> None:
        bracket = self._matching_bracket_location
        super()._watch_selection(previous_selection, selection)
        rows = [location[0] for location in (*previous_selection, *selection)]
        rows += [b[0] for b in (bracket, self._matching_bracket_location) if b is not None]
        self._refresh_rows(min(rows), max(rows))

    def _refresh_rows(self, first: int, last: int) -> None:
        """Repaint the screen lines of document rows ``first`` to ``last``."""
        if not self.is_mounted:
            return
        wrapped = self.wrapped_document
        end = self.document.line_count - 1
        first, last = max(0, min(first, end)), max(0, min(last, end))
        try:
            top = wrapped.location_to_offset((first, 0)).y
            bottom = wrapped.location_to_offset((last, 0)).y + len(wrapped.get_offsets(last))
        except (IndexError, ValueError):  # rows not wrapped yet: repaint everything
            self.refresh()
            return
        self.refresh_lines(top, bottom - top + 1)

    def edit(self, edit: Edit) -> EditResult:
        gutter = self.gutter_width
        result = super().edit(edit)
        first, last = edit.top[0], max(edit.bottom[0], result.end_location[0])
        if first != last or "\n" in edit.text or self.gutter_width != gutter:
            self.refresh()  # rows came or went: every line below may have moved
        else:
            self._refresh_rows(first, last)
        return result

    def _undo_batch(self, edits: Sequence[Edit]) -> None:
        super()._undo_batch(edits)
        self.refresh()

    def _redo_batch(self, edits: Sequence[Edit]) -> None:
        super()._redo_batch(edits)
        self.refresh()

    def _set_document(self, text: str, language: str | None) -> None:
        super()._set_document(text, language)
        self.refresh()

    def _rewrap_and_refresh_virtual_size(self, *args: Any) -> None:
        super()._rewrap_and_refresh_virtual_size(*args)
        self.refresh()
