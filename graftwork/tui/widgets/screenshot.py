"""A widget's screenshot: terminal graphics (via textual-image) when the terminal supports
them, else a character-cell rendering (upper half blocks: two pixels per cell) drawn at the
width the view has, again when it is resized (a wider detail or a maximized one)."""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual import work
from textual.widgets import Static

MAX_COLUMNS = 80  # wider gains nothing at two pixels per cell
MAX_ROWS = 20


def halfcell(path: Path, width: int = 28, max_rows: int = 10) -> Text:
    """Render an image as coloured half blocks (runs in a worker: decoding is not free)."""
    from PIL import Image

    with Image.open(path) as src:
        img = src.convert("RGB")
    w, h = img.size
    cols = max(1, min(width, w))
    rows = max(1, min(max_rows, round(h * cols / w / 2)))  # a cell is about twice as tall
    img = img.resize((cols, rows * 2))
    px = img.load()
    out = Text(no_wrap=True, overflow="crop")
    for y in range(rows):
        for x in range(cols):
            top, bottom = px[x, 2 * y], px[x, 2 * y + 1]
            out.append("▀", Style(color=f"rgb{top}", bgcolor=f"rgb{bottom}"))
        if y < rows - 1:
            out.append("\n")
    return out


class ScreenshotView(Static):
    """Shows one screenshot: `show(path, graphics)`; the half-block drawing is made in a
    thread worker at the view's width."""

    DEFAULT_CSS = "ScreenshotView { height: auto; }"

    def __init__(self, **kw: object) -> None:
        super().__init__(**kw)  # type: ignore[arg-type]
        self.path: Path | None = None
        self.graphics = False
        self._drawn: tuple[Path, int] | None = None  # what the shown drawing was made for

    def show(self, path: Path | None, graphics: bool) -> None:
        if path == self.path and graphics == self.graphics and self._drawn is not None:
            return  # a refresh of the same widget: keep the drawing
        self.path, self.graphics, self._drawn = path, graphics, None
        self.remove_children()
        if path is None:
            self.update(Text("no screenshot (none downloaded, none in the archive)", style="dim"))
            return
        if graphics:
            try:
                from textual_image.widget import Image as GraphicsImage
            except ImportError:
                self.graphics = False
            else:
                self.update("")
                self.mount(GraphicsImage(str(path), classes="graphics"))
                return
        self._draw()

    def on_resize(self) -> None:
        if self.path is not None and not self.graphics:
            self._draw()

    def _draw(self) -> None:
        if self.path is None:
            return
        width = min(MAX_COLUMNS, self.content_size.width or 28)
        if self._drawn == (self.path, width):
            return
        self._drawn = (self.path, width)
        self._make_drawing(self.path, width)

    @work(thread=True, exclusive=True, group="screenshot", exit_on_error=False, name="screenshot")
    def _make_drawing(self, path: Path, width: int) -> None:
        try:
            drawing = halfcell(path, width, MAX_ROWS)
        except Exception:  # any unreadable image: say so instead
            drawing = Text(f"cannot read the screenshot {path.name}", style="yellow")
        self.app.call_from_thread(self._rendered, path, width, drawing)

    def _rendered(self, path: Path, width: int, drawing: Text) -> None:
        if self._drawn == (path, width):  # not superseded by another widget or width
            self.update(drawing)
