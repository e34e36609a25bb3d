"""The detail shows the archive's own screenshot when none was downloaded, drawn at the
detail's width (again when the detail is maximized)."""

from __future__ import annotations

from PIL import Image

from graftwork.tui.widgets.screenshot import ScreenshotView
from tests.tui.helpers import main_screen, settle, until


async def test_archive_screenshot_is_shown_when_none_was_downloaded(make_app, fixture_ws) -> None:
    own = fixture_ws.downloads_dir / "markup" / "markup.widget" / "screenshot.png"
    Image.new("RGB", (120, 60), (200, 40, 40)).save(own)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await main_screen(pilot)
        detail = screen.query_one("#widgets-detail")
        await pilot.press("down")  # markup: no screenshot in downloads/.screenshots
        await until(pilot, lambda: detail.detail is not None and detail.detail.id == "markup")
        assert detail.detail.screenshot == own
        view = detail.query_one(ScreenshotView)
        await settle(pilot)
        drawn = str(view.render())
        assert "▀" in drawn and "no screenshot" not in drawn
        narrow = max(len(line) for line in drawn.splitlines())
        assert narrow <= view.content_size.width  # drawn at the detail's width, not wrapped
        await pilot.press("tab", "z")  # maximize the detail: the picture is drawn wider
        await until(pilot, lambda: screen.maximized is detail)
        await settle(pilot)
        wide = max(len(line) for line in str(view.render()).splitlines())
        assert wide > narrow


async def test_no_screenshot_anywhere_says_so(make_app) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await main_screen(pilot)
        detail = screen.query_one("#widgets-detail")
        await pilot.press("down")
        await until(pilot, lambda: detail.detail is not None and detail.detail.id == "markup")
        await settle(pilot)
        assert "none in the archive" in str(detail.query_one(ScreenshotView).render())
