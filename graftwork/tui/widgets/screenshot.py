"""A widget's screenshot: terminal graphics (via textual-image) when the terminal supports
them, else a character-cell rendering (upper half blocks: two pixels per cell)."""

from __future__ import annotations

from pathlib import Path

from rich.style import Style
from rich.text import Text
from textual.widgets import Static


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
    """Shows one screenshot; `show(path, rendering)` with a pre-rendered fallback."""

    DEFAULT_CSS = "ScreenshotView { height: auto; }"

    def show(self, path: Path | None, rendering: Text | None, graphics: bool) -> None:
        self.remove_children()
        if path is None:
            self.update(Text("no screenshot downloaded", style="dim"))
            return
        if graphics:
            try:
                from textual_image.widget import Image as GraphicsImage
            except ImportError:
                graphics = False
            else:
                self.update("")
                self.mount(GraphicsImage(str(path), classes="graphics"))
                return
        self.update(rendering if rendering is not None else Text("cannot read the screenshot"))
