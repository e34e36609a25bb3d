"""Ingest: read a gallery manifest, download every archive, extract it safely into
downloads/<id>/ and record the outcome in the catalog.

The outside world comes in through two ports handed over by graftwork.wiring: a Fetcher
(http/https/file/path downloads with retries) and an Extractor (safe zip extraction).

Crash safety: archives and extractions are built under downloads/.ingest-tmp/<pid>-<n>/ and
renamed into place; the catalog row is written only after the last rename. Killing the
process at any moment leaves either the old state or the new one, never a half-written
folder, and a re-run finishes the rest without redoing finished items.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import itertools
import json
import os
import shutil
import sqlite3
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import sqlite_utils

from graftwork.core.base.atomic import sweep_temp_files, write_bytes
from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import ConfigError, os_error_line
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.process import pid_alive
from graftwork.core.base.project import IngestConfig
from graftwork.core.base.workspace import Workspace
from graftwork.core.ingest.manifest import ManifestEntry, parse_manifest, select
from graftwork.core.ingest.screenshots import IMAGE_SUFFIXES, archive_screenshot

SOURCE = "uebersicht"
ARCHIVES = ".archives"
SCREENSHOTS = ".screenshots"
TEMP_ROOT = ".ingest-tmp"
MAX_MANIFEST_BYTES = 50_000_000
MAX_SCREENSHOT_BYTES = 10_000_000
SCREENSHOT_SUFFIXES = IMAGE_SUFFIXES


# ---- ports ---------------------------------------------------------------------------


class FetchError(Exception):
    """A download failed; ``cause`` is one line for the user ("HTTP 404 Not Found")."""

    def __init__(self, cause: str, attempts: int = 1) -> None:
        super().__init__(cause)
        self.cause = cause
        self.attempts = attempts


class ArchiveError(Exception):
    """An archive was refused or could not be read; ``cause`` names the member when known."""

    def __init__(self, cause: str) -> None:
        super().__init__(cause)
        self.cause = cause


@dataclass(frozen=True)
class Downloaded:
    sha256: str
    size: int
    attempts: int


@dataclass(frozen=True)
class Extracted:
    file_count: int
    extracted_bytes: int


class Fetcher(Protocol):
    async def download(self, url: str, dest: Path, *, max_bytes: int) -> Downloaded:
        """Stream ``url`` into ``dest`` (hashing while writing); raise FetchError."""
        ...

    async def read(self, url: str, *, max_bytes: int) -> bytes:
        """The whole body of a small resource (manifest, screenshot); raise FetchError."""
        ...

    async def aclose(self) -> None: ...


class Extractor(Protocol):
    def extract(self, archive: Path, into: Path) -> Extracted:
        """Extract ``archive`` into the empty folder ``into``; raise ArchiveError. Blocking."""
        ...


@dataclass(frozen=True)
class IngestOptions:
    limits: IngestConfig
    concurrency: int = 8
    refresh: bool = False
    screenshots: bool = True


# ---- urls ----------------------------------------------------------------------------


def has_scheme(url: str) -> bool:
    scheme = urlsplit(url).scheme.lower()
    return scheme in ("http", "https", "file")


def manifest_base(manifest: str) -> str:
    """The URL relative download links are resolved against."""
    if has_scheme(manifest):
        return manifest
    return Path(manifest).expanduser().resolve().as_uri()


def resolve_url(url: str, base: str) -> str:
    """Absolute URLs and absolute paths stay; relative ones follow the manifest's location."""
    if has_scheme(url) or Path(url).is_absolute():
        return url
    return urljoin(base, url)


# ---- files ---------------------------------------------------------------------------


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def sniff_archive(path: Path) -> str | None:
    """Why the downloaded file is not a zip archive, or None if it looks like one."""
    with open(path, "rb") as fh:
        head = fh.read(512)
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return None
    text = head.lstrip().lower()
    if text.startswith((b"<!doctype html", b"<html", b"<head", b"<body")) or b"<html" in text:
        return "server sent an HTML page, not a zip archive"
    if not head:
        return "empty file, not a zip archive"
    return f"not a zip archive (starts with {head[:8]!r})"


def sweep_stale_temp(downloads: Path) -> int:
    """Remove temp folders left by ingest runs that were killed (their process is gone)."""
    root = downloads / TEMP_ROOT
    removed = 0
    if not root.is_dir():
        return 0
    for child in root.iterdir():
        pid_text = child.name.split("-", 1)[0]
        if pid_text.isdigit() and int(pid_text) != os.getpid() and pid_alive(int(pid_text)):
            continue
        shutil.rmtree(child, ignore_errors=True)
        removed += 1
    return removed


_run_counter = itertools.count()


def make_run_temp(downloads: Path) -> Path:
    # Same filesystem as downloads/ so every final step is a rename.
    path = downloads / TEMP_ROOT / f"{os.getpid()}-{next(_run_counter)}"
    path.mkdir(parents=True, exist_ok=False)
    return path


def install_folder(new: Path, target: Path, scratch: Path) -> None:
    """Put ``new`` at ``target``: old copy renamed aside, new renamed in, old deleted."""
    old = None
    if target.exists() or target.is_symlink():
        old = scratch / f"{target.name}.old"
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


# ---- catalog -------------------------------------------------------------------------


def upsert_items(db: sqlite_utils.Database, entries: list[ManifestEntry]) -> None:
    stamp = now()
    existing = {row["id"] for row in db.query("select id from items")}
    with db.conn:
        for e in entries:
            row: dict[str, Any] = {
                "id": e.id,
                "source": SOURCE,
                "name": e.name,
                "author": e.author,
                "description": e.description,
                "manifest": json.dumps(e.raw, ensure_ascii=False),
                "manifest_order": e.order,
                "updated_at": stamp,
            }
            if e.id in existing:
                db["items"].update(e.id, row)
            else:
                db["items"].insert({**row, "added_at": stamp})


def download_row(db: sqlite_utils.Database, item_id: str) -> dict[str, Any] | None:
    rows = list(db.query("select * from downloads where item_id = ?", [item_id]))
    return rows[0] if rows else None


def write_download(db: sqlite_utils.Database, item_id: str, fields: dict[str, Any]) -> None:
    """Insert or update the item's downloads row; columns not named keep their value (a
    failed refresh keeps the last good sizes). Plain SQL: sqlite-utils' upsert introspects
    the table on every call, which showed up in the ingest benchmark."""
    columns = ["item_id", *fields]
    updates = ", ".join(f"{c} = excluded.{c}" for c in fields)
    db.execute(
        f"insert into downloads ({', '.join(columns)}) values ({', '.join('?' * len(columns))}) "
        f"on conflict(item_id) do update set {updates}",
        [item_id, *fields.values()],
    )
    db.conn.commit()


# ---- the stage -----------------------------------------------------------------------


class Ingest:
    """One ingest run over already-selected manifest entries."""

    def __init__(
        self,
        ws: Workspace,
        db: sqlite_utils.Database,
        fetcher: Fetcher,
        extractor: Extractor,
        options: IngestOptions,
        job: Job,
    ) -> None:
        self.ws, self.db, self.fetcher, self.extractor = ws, db, fetcher, extractor
        self.options, self.job = options, job
        self.downloads = ws.downloads_dir
        self.archives = self.downloads / ARCHIVES
        self.screenshots = self.downloads / SCREENSHOTS
        self.result = StageResult()
        self.fresh = 0
        self.unchanged = 0
        self.had_good: set[str] = set()  # items whose previous extraction is still intact

    def archive_path(self, item_id: str) -> Path:
        return self.archives / f"{item_id}.zip"

    async def run(self, entries: list[ManifestEntry]) -> StageResult:
        self.archives.mkdir(parents=True, exist_ok=True)
        self.screenshots.mkdir(parents=True, exist_ok=True)
        sweep_stale_temp(self.downloads)
        sweep_temp_files(self.screenshots, self.archives)
        self.scratch = make_run_temp(self.downloads)
        semaphore = asyncio.Semaphore(self.options.concurrency)
        try:
            await asyncio.gather(*(self._guarded(e, semaphore) for e in entries))
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
            with contextlib.suppress(OSError):
                self.scratch.parent.rmdir()  # only when no other run is using it
        self.job.check_cancelled()
        self.result.summary.update(
            {
                "downloaded": self.fresh,
                "unchanged": self.unchanged,
                "failed": len(self.result.failed),
            }
        )
        return self.result

    async def _guarded(self, entry: ManifestEntry, semaphore: asyncio.Semaphore) -> None:
        async with semaphore:
            if self.job.cancelled:
                return
            try:
                outcome = await self._one(entry)
            except (FetchError, ArchiveError) as exc:
                self._failed(entry, exc.cause, getattr(exc, "attempts", None))
            except OSError as exc:
                self._failed(entry, f"file system error: {os_error_line(exc)}")
            except sqlite3.Error:
                raise  # the catalog itself (disk full, locked): no other item can succeed
            except Exception as exc:  # one broken item must never stop the others
                self._failed(entry, f"{type(exc).__name__}: {exc}")
            else:
                self.result.ok += 1
                if outcome == "unchanged":
                    self.unchanged += 1
                    self.result.skipped.append((entry.id, "archive unchanged"))
                else:
                    self.fresh += 1
            self.job.advance(item_id=entry.id)

    def _failed(self, entry: ManifestEntry, cause: str, attempts: int | None = None) -> None:
        fields: dict[str, Any] = {"error": cause, "attempts": attempts}
        if entry.id not in self.had_good:
            # A failed --refresh keeps the intact earlier download usable (status stays ok);
            # the failure is still reported and recorded in `error`.
            fields |= {"url": entry.download_url, "status": "failed", "downloaded_at": now()}
        write_download(self.db, entry.id, fields)
        self.result.failed.append((entry.id, cause))
        self.job.item_failed(entry.id, cause)

    def _is_current(self, entry: ManifestEntry, row: dict[str, Any] | None, archive: Path) -> bool:
        """Whether the recorded download still matches what is on disk (no request needed)."""
        return bool(
            row
            and row["status"] == "ok"
            and row["url"] == entry.download_url
            and archive.is_file()
            and (self.downloads / entry.id).is_dir()
            and sha256_file(archive) == row["archive_sha256"]
        )

    async def _one(self, entry: ManifestEntry) -> str:
        row = download_row(self.db, entry.id)
        archive = self.archive_path(entry.id)
        target = self.downloads / entry.id
        current = await asyncio.to_thread(self._is_current, entry, row, archive)
        if current and not self.options.refresh:
            return "unchanged"
        if current:
            self.had_good.add(entry.id)

        limits = self.options.limits
        work = self.scratch / entry.id
        work.mkdir()
        try:
            part = work / "archive.zip.part"
            got = await self.fetcher.download(
                entry.download_url, part, max_bytes=limits.max_archive_bytes
            )
            problem = await asyncio.to_thread(sniff_archive, part)
            if problem:
                raise FetchError(problem, got.attempts)
            if current and row and got.sha256 == row["archive_sha256"]:
                # --refresh with identical bytes: keep the extraction we already have.
                os.replace(part, archive)
                fields: dict[str, Any] = {
                    "attempts": got.attempts,
                    "downloaded_at": now(),
                    "error": None,
                }
                screenshot = await self._screenshot(entry, target)
                if screenshot:
                    fields["screenshot_path"] = screenshot
                write_download(self.db, entry.id, fields)
                return "unchanged"

            unpacked = work / "unpacked"
            unpacked.mkdir()
            stats = await asyncio.to_thread(self.extractor.extract, part, unpacked)
            os.replace(part, archive)
            await asyncio.to_thread(install_folder, unpacked, target, work)
        finally:
            await asyncio.to_thread(shutil.rmtree, work, True)

        screenshot = await self._screenshot(entry, target)
        write_download(
            self.db,
            entry.id,
            {
                "url": entry.download_url,
                "status": "ok",
                "archive_sha256": got.sha256,
                "archive_bytes": got.size,
                "extracted_bytes": stats.extracted_bytes,
                "file_count": stats.file_count,
                "path": target.relative_to(self.ws.root).as_posix(),
                "screenshot_path": screenshot,
                "error": None,
                "attempts": got.attempts,
                "downloaded_at": now(),
            },
        )
        return "downloaded"

    async def _screenshot(self, entry: ManifestEntry, folder: Path) -> str | None:
        """Best effort: the manifest's screenshot, else the archive's own picture (in the
        extracted ``folder``); a failed screenshot is a warning, never an item failure."""
        fetched, cause = await self._fetch_screenshot(entry)
        if fetched is not None:
            return fetched
        own = await asyncio.to_thread(archive_screenshot, folder)
        if cause:
            instead = f"; using the archive's own {own.name}" if own is not None else ""
            self.job.log(
                f"{entry.id}: screenshot not saved: {cause}{instead}",
                level="warning",
                item_id=entry.id,
            )
        # paths in the catalog are workspace-relative
        return own.relative_to(self.ws.root).as_posix() if own is not None else None

    async def _fetch_screenshot(self, entry: ManifestEntry) -> tuple[str | None, str]:
        """(the saved picture's workspace-relative path, "") or (None, why not; "" when the
        manifest names none or screenshots are off)."""
        if not self.options.screenshots or not entry.screenshot_url:
            return None, ""
        try:
            suffix = Path(urlsplit(entry.screenshot_url).path).suffix.lower()
        except ValueError:
            suffix = ""
        suffix = suffix if suffix in SCREENSHOT_SUFFIXES else ".img"
        dest = self.screenshots / f"{entry.id}{suffix}"
        try:
            data = await self.fetcher.read(entry.screenshot_url, max_bytes=MAX_SCREENSHOT_BYTES)
            await asyncio.to_thread(write_bytes, dest, data)
        except (FetchError, OSError, ValueError) as exc:  # ValueError: an unparseable URL
            if isinstance(exc, FetchError):
                return None, exc.cause
            return None, os_error_line(exc) if isinstance(exc, OSError) else str(exc)
        return dest.relative_to(self.ws.root).as_posix(), ""


async def load_manifest(fetcher: Fetcher, manifest: str) -> bytes:
    """The manifest bytes from a path, file:// URL or http(s) URL; ConfigError if unreadable."""
    try:
        return await fetcher.read(manifest, max_bytes=MAX_MANIFEST_BYTES)
    except FetchError as exc:
        raise ConfigError(f"{manifest}: cannot read the manifest: {exc.cause}") from None
    except ValueError as exc:  # an unparseable URL ("http://[::1"), a NUL in a path
        raise ConfigError(f"{manifest}: cannot read the manifest: {exc}") from None


async def ingest_async(
    ws: Workspace,
    db: sqlite_utils.Database,
    manifest: str,
    fetcher: Fetcher,
    extractor: Extractor,
    options: IngestOptions,
    job: Job,
    widgets: list[str] | None = None,
) -> StageResult:
    try:
        parsed = parse_manifest(await load_manifest(fetcher, manifest), manifest)
        base = manifest_base(manifest)
        entries = [
            replace(e, download_url=resolve_url(e.download_url, base)) for e in parsed.entries
        ]
        chosen, unknown = select(entries, widgets)
        job.set_total(len(chosen))
        job.log(f"manifest {manifest}: {len(parsed.entries)} valid entries, {len(chosen)} selected")
        upsert_items(db, chosen)
        runner = Ingest(ws, db, fetcher, extractor, options, job)
        failures: list[tuple[str, str]] = []
        wanted = set(widgets) if widgets is not None else None
        for p in parsed.problems:
            # A filtered run reports only the bad entries it asked for.
            if wanted is None or (isinstance(p.id, str) and p.id in wanted):
                failures.append((p.label, f"skipped manifest entry: {p.cause}"))
        for item_id in unknown:
            failures.append((item_id, "not in the manifest (or its entry is invalid)"))
        for label, cause in failures:
            job.item_failed(label, cause)
        result = await runner.run(chosen)
        result.failed[:0] = failures
        return result
    finally:
        await fetcher.aclose()


def run_ingest(
    ws: Workspace,
    manifest: str,
    fetcher: Fetcher,
    extractor: Extractor,
    options: IngestOptions,
    job: Job,
    widgets: list[str] | None = None,
    db: sqlite_utils.Database | None = None,
) -> StageResult:
    """Blocking entry point; safe to call from a worker thread (it runs its own event loop).

    The catalog connection is opened here, in the thread that uses it.
    """
    # a connection passed in stays open for its owner; one opened here closes here
    with contextlib.nullcontext(db) if db is not None else ws.catalog() as conn:
        return asyncio.run(
            ingest_async(ws, conn, manifest, fetcher, extractor, options, job, widgets)
        )
