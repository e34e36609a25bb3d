"""What the user reads when background work fails: the work's label and one line in plain
words, never an internal name such as `_teacher:` (a worker's method name)."""

from __future__ import annotations

import ast
from pathlib import Path

import graftwork.tui
from graftwork.core.teach.port import TeacherCallError
from tests.tui.helpers import main_screen, until


def test_every_worker_names_a_label() -> None:
    """Textual names an unnamed worker after its method (`_teacher`), and that name is what
    a failure's notification starts with: every @work in the TUI says what it does."""
    unnamed = []
    for path in Path(graftwork.tui.__file__).parent.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                for deco in node.decorator_list:
                    if (
                        isinstance(deco, ast.Call)
                        and getattr(deco.func, "id", "") == "work"
                        and not any(k.arg == "name" for k in deco.keywords)
                    ):
                        unnamed.append(f"{path.name}:{node.name}")
    assert unnamed == []


async def _failure_message(app, keys: tuple[str, ...], needle: str) -> str:
    """Press ``keys`` on the clock's prompt and return the notification naming ``needle``."""
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        await until(pilot, lambda: screen.prompt_pane.item_id == "clock")
        await pilot.press(*keys)
        await until(pilot, lambda: any(needle in n.message for n in app._notifications))
        return next(n.message for n in app._notifications if needle in n.message)


async def test_teacher_failure_reads_as_words(make_app) -> None:
    def teacher_draft(item_id: str) -> dict:  # stand-in: the teacher's own errors are its area's
        raise TeacherCallError(f"{item_id}: the teacher did not answer (3 attempts)")

    message = await _failure_message(
        make_app(teacher_draft=teacher_draft), ("2", "ctrl+g"), "attempts"
    )
    assert message == "teacher draft: clock: the teacher did not answer (3 attempts)"


async def test_unforeseen_failure_has_no_internal_prefix(make_app) -> None:
    def template_draft(db: object, item_id: str) -> str:
        raise KeyError("analysis")

    app = make_app(template_draft=template_draft)
    message = await _failure_message(app, ("2", "ctrl+t"), "analysis")
    assert not message.startswith("_") and message.startswith("template draft: ")
