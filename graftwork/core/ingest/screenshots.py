"""A widget's screenshot: the picture ingest fetched from the manifest's `screenshotUrl`
(downloads/.screenshots/<id>.<ext>), else the archive's own (many widgets ship a
screenshot.png). Ingest records whichever it found in downloads.screenshot_path; the
workstation asks `find_screenshot` (so older workspaces get the archive's picture too)."""

from __future__ import annotations

import glob
import os
from pathlib import Path

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".gif", ".webp"}
# name fragments, best first: rank 0 and 1 are taken whatever their size; any other image
# (rank 2) only when it is not a tiny icon and its name does not say it is one
NAME_RANKS: tuple[tuple[str, ...], ...] = (
    ("screenshot", "screen-shot", "screen_shot"),
    ("preview", "screen", "snapshot", "demo", "shot"),
)
NOT_SCREENSHOTS = ("icon", "logo", "favicon", "background", "sprite")
MIN_OTHER_BYTES = 2048
MAX_DEPTH = 3  # the archive's top, the .widget folder and one below
MAX_FILES = 5000  # a huge folder (node_modules shipped by mistake) is not searched to its end


def _rank(path: Path) -> int | None:
    stem = path.stem.lower()
    for rank, fragments in enumerate(NAME_RANKS):
        if any(fragment in stem for fragment in fragments):
            return rank
    if any(word in stem for word in NOT_SCREENSHOTS):
        return None
    try:
        return 2 if path.stat().st_size >= MIN_OTHER_BYTES else None
    except OSError:
        return None


def archive_screenshot(folder: Path) -> Path | None:
    """The image in an extracted widget folder that best passes for its screenshot: a name
    with "screenshot" first, then "preview", "screen", "demo", ..., then another image that
    is not an icon; shallower before deeper, then by path. None when there is none."""
    if not folder.is_dir():
        return None
    best: tuple[tuple[int, int, str], Path] | None = None
    seen = 0
    for root, dirs, files in os.walk(folder, followlinks=False):
        here = Path(root)
        depth = len(here.relative_to(folder).parts)
        # hidden folders are not the widget's (.git, __MACOSX's ._ copies are hidden too)
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d != "__MACOSX")
        if depth >= MAX_DEPTH:
            dirs[:] = []
        for name in files:
            seen += 1
            if seen > MAX_FILES:
                return best[1] if best else None
            path = here / name
            if name.startswith(".") or path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            if path.is_symlink() or not path.is_file():
                continue
            rank = _rank(path)
            if rank is None:
                continue
            key = (rank, depth, path.relative_to(folder).as_posix().lower())
            if best is None or key < best[0]:
                best = (key, path)
    return best[1] if best else None


def find_screenshot(root: Path, downloads: Path, item_id: str, recorded: str | None) -> Path | None:
    """The screenshot to show for an item: the recorded one (``recorded`` is relative to the
    workspace ``root``), else a fetched one under downloads/.screenshots, else the archive's
    own picture in downloads/<id>/."""
    if recorded:
        path = Path(recorded)
        path = path if path.is_absolute() else root / path
        if path.is_file():
            return path
    shots = downloads / ".screenshots"
    if shots.is_dir():
        for candidate in sorted(shots.glob(f"{glob.escape(item_id)}.*")):  # ids are user data
            if candidate.is_file():
                return candidate
    return archive_screenshot(downloads / item_id)
