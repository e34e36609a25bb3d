"""The selected widget: description, author, repository, state, screenshot, files and code."""

from __future__ import annotations

from rich.syntax import Syntax
from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from graftwork.tui.data import Detail
from graftwork.tui.widgets.screenshot import ScreenshotView

MAX_CODE_LINES = 400  # highlight the start of a large widget; the editor never needs all of it


def file_tree(files: list[str]) -> Text:
    """Indented tree of relative paths (plain Text: file names are user data, never markup)."""
    out = Text()
    seen: set[str] = set()
    for path in files:
        parts = path.split("/")
        for depth in range(len(parts)):
            key = "/".join(parts[: depth + 1])
            if key in seen:
                continue
            seen.add(key)
            is_dir = depth < len(parts) - 1
            out.append("  " * depth + ("▸ " if is_dir else "  "))
            out.append(parts[depth] + ("/" if is_dir else ""), style="bold" if is_dir else "")
            out.append("\n")
    out.rstrip()
    return out


class DetailView(VerticalScroll, can_focus=True):
    detail: Detail | None = None  # what is shown now (the note form starts from its note)

    def compose(self) -> ComposeResult:
        yield Static(Text("Select a widget", style="dim"), id="detail-info")
        yield ScreenshotView(id="detail-shot")
        yield Static(id="detail-files")
        yield Static(id="detail-code")

    def show(self, detail: Detail | None, graphics: bool) -> None:
        previous, self.detail = self.detail, detail
        if detail is None or previous is None or previous.id != detail.id:
            self.scroll_home(animate=False)  # a new widget starts at its top; a refresh stays put
        info = self.query_one("#detail-info", Static)
        if detail is None:
            info.update(Text("Select a widget", style="dim"))
            self.query_one(ScreenshotView).show(None, False)
            self.query_one("#detail-files", Static).update("")
            self.query_one("#detail-code", Static).update("")
            return
        t = Text()
        t.append(detail.name or detail.id, style="bold")
        t.append(f"  ({detail.id})\n", style="dim")
        t.append("author   ", style="dim")
        t.append(detail.author or "—")
        t.append("\nrepo     ", style="dim")
        t.append(detail.repo_url or "—")
        t.append("\ncategory ", style="dim")
        t.append(detail.category or "—")
        t.append("\nkind     ", style="dim")
        decision = detail.decision.replace("_", " ")  # "needs work", as the table says it
        t.append(f"{detail.kind}   download {detail.download_status}   decision {decision}")
        if detail.note:
            t.append("\nnote     ", style="dim")
            t.append(detail.note)
        if detail.download_error:
            t.append("\nerror    ", style="dim")
            t.append(detail.download_error, style="red")
        t.append("\n\n")
        t.append(detail.description or "(no description)")
        info.update(t)
        self.query_one(ScreenshotView).show(detail.screenshot, graphics)
        files = self.query_one("#detail-files", Static)
        code = self.query_one("#detail-code", Static)
        if not detail.folder_exists:
            msg = Text(
                f"download folder {detail.folder.name} is missing; run ingest again", style="yellow"
            )
            files.update(msg)
            code.update("")
            return
        files.update(file_tree(detail.files) if detail.files else Text("(no files)", style="dim"))
        lines = detail.code.splitlines()
        shown = "\n".join(lines[:MAX_CODE_LINES])
        if not shown:
            code.update(Text("(no .jsx code)", style="dim"))
            return
        code.update(Syntax(shown, "jsx", theme="monokai", line_numbers=True, word_wrap=False))
