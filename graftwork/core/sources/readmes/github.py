"""One repository over the GitHub REST API, through the GitHubPort (adapters/github_http.py):
metadata, README, recursive tree and the texts of the key files, with conditional requests
(ETag / If-None-Match) so a re-collect of an unchanged repository costs no rate limit."""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any
from urllib.parse import quote

import sqlite_utils

from graftwork.core.base.catalog.db import now
from graftwork.core.sources.readmes.config import CollectConfig
from graftwork.core.sources.readmes.facts import Counter, describe, texts_wanted
from graftwork.core.sources.readmes.model import (
    GitHubPort,
    NotFoundError,
    RepoError,
    RepoSpec,
    Snapshot,
)
from graftwork.core.sources.readmes.tree import check_readme_size, decode_readme, skipped_by_dir

JSON = "application/vnd.github+json"
RAW = "application/vnd.github.raw"
TEXT_CAP = 256_000  # bytes of a key file or manifest that are kept


class EtagCache:
    """ETag and body of earlier answers, in the catalog (readme_http_cache). Used from the
    collect loop's thread only. New answers are kept in memory until `flush` (collect flushes
    after each repository and at the end): one commit per repository instead of one per
    request, since every commit blocks the event loop and so every request in flight."""

    def __init__(self, db: sqlite_utils.Database) -> None:
        self.db = db
        self.pending: dict[str, tuple[str, bytes]] = {}

    def get(self, url: str) -> tuple[str, bytes] | None:
        if url in self.pending:
            return self.pending[url]
        row = self.db.execute(
            "SELECT etag, body FROM readme_http_cache WHERE url = ?", [url]
        ).fetchone()
        return (row[0], row[1]) if row and row[0] else None

    def put(self, url: str, etag: str, body: bytes) -> None:
        self.pending[url] = (etag, body)

    def flush(self) -> None:
        if not self.pending:
            return
        stamp = now()
        rows = [(url, etag, body, stamp) for url, (etag, body) in self.pending.items()]
        self.pending.clear()
        with self.db.conn:
            self.db.conn.executemany(
                "INSERT OR REPLACE INTO readme_http_cache (url, etag, body, fetched_at) "
                "VALUES (?, ?, ?, ?)",
                rows,
            )


class GitHubCollector:
    def __init__(
        self, api: GitHubPort, cache: EtagCache, cfg: CollectConfig, count: Counter
    ) -> None:
        self.api, self.cache, self.cfg, self.count = api, cache, cfg, count
        self.requests = 0
        self.not_modified = 0

    async def get(self, path: str, accept: str = JSON) -> bytes:
        key = f"{accept} {path}"
        cached = self.cache.get(key)
        self.requests += 1
        resp = await self.api.get(path, accept=accept, etag=cached[0] if cached else None)
        if resp.status == 304 and cached is not None:
            self.not_modified += 1
            return cached[1]
        if resp.etag:
            self.cache.put(key, resp.etag, resp.body)
        return resp.body

    async def get_json(self, path: str) -> Any:
        body = await self.get(path)
        try:
            return json.loads(body)
        except ValueError:
            raise RepoError(f"GitHub answered {path} with something that is not JSON") from None

    async def snapshot(self, spec: RepoSpec) -> Snapshot:
        base = f"/repos/{spec.owner}/{spec.repo}"
        try:
            meta = await self.get_json(base)
        except NotFoundError:
            raise RepoError(
                f"GitHub repository {spec.owner}/{spec.repo} not found (404): private or missing"
            ) from None
        branch = str(meta.get("default_branch") or "")
        if not branch or meta.get("size") == 0:
            raise RepoError("empty repository (no commits)")
        # README and tree at once (one round trip less per repository); the repository call
        # above came first, so a rejected token or a missing repository sends nothing more.
        readme_or_err, tree_or_err = await asyncio.gather(
            self.get_json(f"{base}/readme"), self.tree(base, branch), return_exceptions=True
        )
        if isinstance(readme_or_err, NotFoundError):
            raise RepoError("no README at the top level")
        for outcome in (readme_or_err, tree_or_err):
            if isinstance(outcome, BaseException):
                raise outcome
        readme: dict[str, Any] = readme_or_err  # type: ignore[assignment]
        files, notes = tree_or_err  # type: ignore[misc]
        readme_path = str(readme.get("path") or "README")
        size = int(readme.get("size") or 0)
        check_readme_size(readme_path, size, self.cfg.max_readme_bytes)
        try:
            raw = base64.b64decode(readme.get("content") or "")
        except ValueError:
            raise RepoError(f"{readme_path}: GitHub sent content that is not base64") from None
        text = decode_readme(readme_path, raw, self.cfg.max_readme_bytes)
        if not files:
            raise RepoError("empty repository (no files)")
        spdx = ((meta.get("license") or {}).get("spdx_id") or "").strip()
        spdx = "" if spdx == "NOASSERTION" else spdx
        wanted = texts_wanted(files, self.cfg.key_files_max, need_license=not spdx)
        texts = dict(
            zip(
                wanted,
                await asyncio.gather(*(self.text(base, branch, p) for p in wanted)),
                strict=True,
            )
        )
        facts = describe(
            files,
            texts.get,
            key_limit=self.cfg.key_files_max,
            key_budget=self.cfg.key_files_tokens,
            count=self.count,
            language=str(meta.get("language") or ""),
            license=spdx,
        )
        return Snapshot(
            readme_path,
            text,
            len(raw),
            files,
            description=str(meta.get("description") or ""),
            stars=meta.get("stargazers_count"),
            default_branch=branch,
            notes=notes,
            **facts,
        )

    async def tree(self, base: str, branch: str) -> tuple[list[str], list[str]]:
        try:
            data = await self.get_json(f"{base}/git/trees/{quote(branch, safe='')}?recursive=1")
        except NotFoundError:
            raise RepoError("empty repository (no tree on the default branch)") from None
        entries = data.get("tree") or []
        notes: list[str] = []
        if data.get("truncated"):
            notes.append("GitHub truncated the file tree (a very large repository)")
        blobs = [e for e in entries if e.get("type") == "blob"]
        if len(blobs) > self.cfg.max_files:
            raise RepoError(
                f"{len(blobs):,} files, over the limit of {self.cfg.max_files:,} (max_files)"
            )
        skip = frozenset(self.cfg.skip_dirs)
        for e in entries:
            if e.get("type") == "commit":
                notes.append(f"submodule {e.get('path')} not collected")
        files = sorted(
            str(e["path"]) for e in blobs if e.get("path") and not skipped_by_dir(e["path"], skip)
        )
        return files, notes

    async def text(self, base: str, branch: str, path: str) -> str | None:
        try:
            body = await self.get(
                f"{base}/contents/{quote(path)}?ref={quote(branch, safe='')}", accept=RAW
            )
        except RepoError:
            return None  # a key file that vanished or is too odd to read: just not quoted
        body = body[:TEXT_CAP]
        return None if b"\x00" in body else body.decode("utf-8", errors="replace")
