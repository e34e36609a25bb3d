"""The demo workspace: the sample widgets under data/sample, zipped and served from file://
URLs through a manifest shaped like the real gallery's, ready for the normal pipeline.

Preparing is idempotent: archives are built byte-for-byte reproducibly (fixed timestamps,
sorted members), so a second run finds them unchanged and ingest skips them."""

from __future__ import annotations

import hashlib
import io
import json
import struct
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from graftwork.core.base.atomic import write_bytes, write_json
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.workspace import Workspace

PACKAGE_DIR = Path(__file__).resolve().parent.parent
CHECKOUT_DIR = PACKAGE_DIR.parent
SET_NAME = "demo"
EXPORT_FORMAT = "mlx-chat"
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest zip timestamp: archives never change
MARKER = ".graftwork-demo"  # marks a folder the demo created, so a re-run may reuse it


class DemoError(GraftworkError):
    """The bundled sample is missing or inconsistent."""

    exit_code = 2


def is_checkout() -> bool:
    return (CHECKOUT_DIR / "pyproject.toml").is_file() and (
        CHECKOUT_DIR / "data" / "sample"
    ).is_dir()


def sample_dir() -> Path:
    """data/sample of a checkout, else the copy shipped inside the wheel."""
    for candidate in (CHECKOUT_DIR / "data" / "sample", PACKAGE_DIR / "_sample"):
        if (candidate / "manifest.json").is_file():
            return candidate
    raise DemoError("the demo sample (data/sample/manifest.json) is missing from this installation")


def default_demo_dir(cwd: Path) -> Path:
    return CHECKOUT_DIR / "data" / "demo-workspace" if is_checkout() else cwd / "graftwork-demo"


@dataclass(frozen=True)
class DemoPlan:
    ws: Workspace
    manifest: Path  # the filled-in manifest inside the workspace
    prompts_dir: Path  # the hand-written prompts to import
    widget_ids: list[str]


def zip_folder(folder: Path) -> bytes:
    """A reproducible zip of everything under ``folder`` (member names relative to it)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(folder.rglob("*"), key=lambda p: p.relative_to(folder).as_posix()):
            if path.is_file() and not path.is_symlink():
                info = zipfile.ZipInfo(path.relative_to(folder).as_posix(), ZIP_TIME)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.external_attr = 0o644 << 16
                archive.writestr(info, path.read_bytes())
    return buffer.getvalue()


def screenshot_png(seed: str, width: int = 64, height: int = 40) -> bytes:
    """A tiny placeholder screenshot: a band of colour derived from ``seed`` on dark grey."""
    r, g, b = hashlib.sha256(seed.encode()).digest()[:3]
    rows = []
    for y in range(height):
        band = height // 3 <= y < 2 * height // 3
        pixel = bytes((r, g, b)) if band else b"\x22\x24\x2a"
        rows.append(b"\x00" + pixel * width)  # filter byte 0 per scanline

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"".join(rows), 9))
        + chunk(b"IEND", b"")
    )


def _write_if_changed(path: Path, data: bytes) -> None:
    if not path.is_file() or path.read_bytes() != data:
        write_bytes(path, data)


def _template(sample: Path) -> list[dict[str, Any]]:
    path = sample / "manifest.json"
    try:
        widgets = json.loads(path.read_text(encoding="utf-8"))["widgets"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise DemoError(f"{path}: not a gallery manifest ({exc})") from None
    return widgets


def check_target(target: Path) -> None:
    """The demo fills its folder with sample widgets: only an empty folder or an earlier demo."""
    if target.exists() and not target.is_dir():
        raise DemoError(f"{target} is a file; pass --dir with a folder for the demo workspace")
    made_by_demo = (target / MARKER).is_file() or (target / "sample" / "manifest.json").is_file()
    if target.is_dir() and any(target.iterdir()) and not made_by_demo:
        raise DemoError(
            f"{target} is not empty and was not made by `graftwork demo`; "
            "pass --dir with a new or empty folder"
        )


def prepare(target: Path, sample: Path | None = None) -> DemoPlan:
    """Create (or refresh) the demo workspace at ``target``: archives, screenshots, manifest."""
    sample = sample or sample_dir()
    target = Path(target).expanduser().resolve()
    check_target(target)
    ws = Workspace.init(target)
    (ws.root / MARKER).touch()
    served = ws.root / "sample"  # what the file:// URLs point at
    entries = _template(sample)
    ids = [entry["id"] for entry in entries]
    folders = {p.name for p in (sample / "widgets").iterdir() if p.is_dir()}
    if missing := sorted(set(ids) - folders):
        raise DemoError(f"{sample}/widgets: no folder for manifest id(s) {', '.join(missing)}")
    if extra := sorted(folders - set(ids)):
        raise DemoError(f"{sample}/manifest.json: no entry for widget folder(s) {', '.join(extra)}")
    for entry in entries:
        wid = entry["id"]
        archive = served / f"{wid}.widget.zip"
        picture = served / f"{wid}.png"
        _write_if_changed(archive, zip_folder(sample / "widgets" / wid))
        _write_if_changed(picture, screenshot_png(wid))
        entry["downloadUrl"] = archive.as_uri()
        entry["screenshotUrl"] = picture.as_uri()
    manifest = served / "manifest.json"
    write_json(manifest, {"widgets": entries})
    return DemoPlan(ws, manifest, sample / "prompts", ids)


def over_budget(ws: Workspace) -> list[dict[str, Any]]:
    """Widgets the budget stage excluded, with their numbers (empty before budget ran)."""
    with ws.catalog() as db:
        rows = db.execute(
            "select item_id, total_tokens, widget_tokens, max_tokens, over_by, reason "
            "from budget where action = 'exclude' order by item_id"
        ).fetchall()
    keys = ("id", "total_tokens", "widget_tokens", "max_tokens", "over_by", "reason")
    return [dict(zip(keys, row, strict=True)) for row in rows]


def not_jsx(ws: Workspace) -> list[tuple[str, str]]:
    """(id, kind) of analyzed items that build leaves out because they are not JSX."""
    with ws.catalog() as db:
        rows = db.execute(
            "select item_id, kind from analysis where coalesce(is_jsx, 0) = 0 order by item_id"
        ).fetchall()
    return [(row[0], row[1] or "none") for row in rows]
