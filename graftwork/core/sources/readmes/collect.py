"""The collect stage: repositories -> readme_repos rows and the seed's collection file.

Sources are local folders (read in place), git URLs (cloned shallow into repos/<id>/ with the
git CLI) and GitHub repositories over the REST API (with --api, or when git is missing).
Each repository is collected on its own: a bad one is named with its cause and the others go
on; a rejected token or git missing for a clone stops what cannot go on, never with a secret
in the message. Every repository's row is written in one transaction after it is read, and
the collection file is replaced atomically at the end, so nothing is half-written.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from graftwork.core.base.aio import all_or_cancel
from graftwork.core.base.atomic import write_json
from graftwork.core.base.catalog.db import now
from graftwork.core.base.jobs import Cancelled, Job, StageResult, stage_db
from graftwork.core.base.workspace import Workspace
from graftwork.core.sources.readmes.config import ReadmesConfig, load_readmes_config
from graftwork.core.sources.readmes.facts import Counter, describe
from graftwork.core.sources.readmes.github import EtagCache, GitHubCollector
from graftwork.core.sources.readmes.model import (
    CollectStop,
    CollectUsageError,
    GitHubPort,
    GitPort,
    RepoError,
    RepoSpec,
    Snapshot,
    TextReader,
)
from graftwork.core.sources.readmes.specs import (
    awesome_links,
    read_list,
    spec_for,
    unique_specs,
)
from graftwork.core.sources.readmes.tree import (
    check_readme_size,
    decode_readme,
    list_tracked,
    pick_readme,
    read_text_file,
    walk_folder,
)

COLLECTION_FILE = Path("collection") / "awesome_readme_data.json"
LIST_MAX_BYTES = 10_000_000
TEXT_CAP = 256_000
API_REPOS_PER_CONNECTION = 4  # API repositories started per request slot (see _Run.run)


@dataclass
class CollectPorts:
    git: GitPort
    github: Callable[[], GitHubPort]  # built on first use (reads the token then)
    reader: TextReader
    count: Counter


@dataclass
class CollectRequest:
    sources: list[str] = field(default_factory=list)
    repos_file: str | None = None
    awesome: list[str] = field(default_factory=list)
    api: bool = False
    concurrency: int | None = None


def repos_dir(ws: Workspace) -> Path:
    return ws.root / "repos"


# ---- reading one repository -------------------------------------------------------------


def scan_folder(
    root: Path, git: GitPort | None, cfg: ReadmesConfig, count: Counter
) -> tuple[list[str], list[str], dict[str, Any]]:
    """(files, notes, facts) of a folder on disk (a git work tree lists its tracked files).
    Blocking: run in a thread."""
    c = cfg.collect
    if not root.exists():
        raise RepoError(f"{root} does not exist")
    if not root.is_dir():
        raise RepoError(f"{root} is not a folder")
    skip = frozenset(c.skip_dirs)
    tracked = git.tracked(str(root)) if git is not None else None
    if tracked is not None:
        files, notes = list_tracked(
            root, tracked[0], tracked[1], skip_dirs=skip, max_files=c.max_files
        )
    else:
        files, notes = walk_folder(root, skip_dirs=skip, max_files=c.max_files)
    if not files:
        raise RepoError("empty repository (no files)")
    facts = describe(
        files,
        lambda rel: read_text_file(root, rel, TEXT_CAP),
        key_limit=c.key_files_max,
        key_budget=c.key_files_tokens,
        count=count,
    )
    return files, notes, facts


def local_snapshot(root: Path, git: GitPort | None, cfg: ReadmesConfig, count: Counter) -> Snapshot:
    """A folder on disk with its README. Blocking: run in a thread."""
    files, notes, facts = scan_folder(root, git, cfg, count)
    readme_path = pick_readme(files)
    if readme_path is None:
        raise RepoError("no README at the top level (README, README.md, .rst or .txt)")
    path = root / readme_path
    try:
        check_readme_size(readme_path, path.stat().st_size, cfg.collect.max_readme_bytes)
        data = path.read_bytes()
    except OSError as exc:
        raise RepoError(f"{readme_path}: cannot read ({exc.strerror})") from None
    text = decode_readme(readme_path, data, cfg.collect.max_readme_bytes)
    return Snapshot(readme_path, text, len(data), files, notes=notes, **facts)


# ---- ids and rows -------------------------------------------------------------------------


def assign_ids(db: sqlite_utils.Database, specs: list[RepoSpec]) -> dict[str, str]:
    """location -> repo id: the stored id for a known location, else the spec's name (with a
    short hash of the location when another location already has that name)."""
    known = {r[0]: r[1] for r in db.execute("SELECT location, id FROM readme_repos")}
    taken = set(known.values())
    out: dict[str, str] = {}
    for spec in specs:
        if spec.location in known:
            out[spec.location] = known[spec.location]
            continue
        rid = spec.name
        if rid in taken:
            rid = f"{spec.name}-{hashlib.sha256(spec.location.encode()).hexdigest()[:6]}"
        taken.add(rid)
        out[spec.location] = rid
    return out


def _identity(rid: str, spec: RepoSpec) -> dict[str, Any]:
    return {
        "id": rid,
        "location": spec.location,
        "origin": spec.origin,
        "repo_url": spec.repo_url,
        "owner": spec.owner,
        "repo": spec.repo,
    }


def store_ok(db: sqlite_utils.Database, rid: str, spec: RepoSpec, snap: Snapshot) -> None:
    stamp = now()
    row = {
        **_identity(rid, spec),
        "checkout": snap.checkout,
        "readme_path": snap.readme_path,
        "readme": snap.readme,
        "readme_bytes": snap.readme_bytes,
        "readme_sha256": hashlib.sha256(snap.readme.encode("utf-8")).hexdigest(),
        "file_tree": json.dumps(snap.files, ensure_ascii=False),
        "file_count": len(snap.files),
        "language": snap.language,
        "project_type": snap.project_type,
        "license": snap.license,
        "key_files": json.dumps([k.as_dict() for k in snap.key_files], ensure_ascii=False),
        "description": snap.description,
        "stars": snap.stars,
        "default_branch": snap.default_branch,
        "notes": json.dumps(snap.notes, ensure_ascii=False),
        "status": "ok",
        "error": None,
        "collected_at": stamp,
        "updated_at": stamp,
    }
    # plain SQL: sqlite-utils' upsert reads the table's schema on every call, and this runs
    # on the collect loop's thread once per repository
    cols = ", ".join(row)
    marks = ", ".join("?" for _ in row)
    updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "id")
    with db.conn:
        db.conn.execute(
            f"INSERT INTO readme_repos ({cols}) VALUES ({marks}) "
            f"ON CONFLICT(id) DO UPDATE SET {updates}",
            list(row.values()),
        )


def store_failed(db: sqlite_utils.Database, rid: str, spec: RepoSpec, cause: str) -> None:
    """A failed collect keeps the last good snapshot (if any) and records the cause."""
    stamp = now()
    with db.conn:
        if db.execute("SELECT 1 FROM readme_repos WHERE id = ?", [rid]).fetchone():
            db.conn.execute(
                "UPDATE readme_repos SET status = 'failed', error = ?, updated_at = ? WHERE id = ?",
                [cause, stamp, rid],
            )
        else:
            db["readme_repos"].insert(
                {
                    **_identity(rid, spec),
                    "status": "failed",
                    "error": cause,
                    "updated_at": stamp,
                }
            )


def collection_records(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """The seed's collection shape (repo_url, owner, repo, readme, file_tree, language, ...)
    for every repository whose last collect succeeded."""
    out = []
    for r in db.query("SELECT * FROM readme_repos WHERE status = 'ok' ORDER BY id"):
        out.append(
            {
                "repo_url": r["repo_url"],
                "owner": r["owner"],
                "repo": r["repo"],
                "readme": r["readme"],
                "file_tree": json.loads(r["file_tree"] or "[]"),
                "language": r["language"],
                "project_type": r["project_type"],
                "license": r["license"],
                "stars": r["stars"],
                "description": r["description"],
                "readme_path": r["readme_path"],
                "key_files": [
                    {"path": k["path"], "content": k["content"]}
                    for k in json.loads(r["key_files"] or "[]")
                ],
                "id": r["id"],
                "collected_at": r["collected_at"],
            }
        )
    return out


def export_collection(ws: Workspace, db: sqlite_utils.Database) -> Path:
    path = ws.root / COLLECTION_FILE
    write_json(path, collection_records(db))
    return path


# ---- the stage ----------------------------------------------------------------------------


class _Run:
    def __init__(
        self,
        ws: Workspace,
        db: sqlite_utils.Database,
        cfg: ReadmesConfig,
        ports: CollectPorts,
        job: Job,
        concurrency: int,
    ) -> None:
        self.ws, self.db, self.cfg, self.ports, self.job = ws, db, cfg, ports, job
        self.concurrency = concurrency
        self.result = StageResult()
        self.git_ok = ports.git.available()
        self._github: GitHubCollector | None = None
        self._api: GitHubPort | None = None

    def github(self) -> GitHubCollector:
        if self._github is None:
            self._api = self.ports.github()
            self._github = GitHubCollector(
                self._api, EtagCache(self.db), self.cfg.collect, self.ports.count
            )
        return self._github

    async def read_source(self, source: str) -> str:
        data = await self.ports.reader.read(source, max_bytes=LIST_MAX_BYTES)
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise RepoError(f"not UTF-8 (invalid byte at offset {exc.start})") from None

    async def specs(self, req: CollectRequest) -> list[RepoSpec]:
        def make(text: str, base: Path | None = None) -> RepoSpec:
            return spec_for(text, use_api=req.api, git_available=self.git_ok, base=base)

        specs = [make(s) for s in req.sources]
        if req.repos_file:
            try:
                text = await self.read_source(req.repos_file)
            except RepoError as exc:
                raise CollectUsageError(f"--repos {req.repos_file}: {exc}") from None
            base = Path(req.repos_file).expanduser().resolve().parent
            specs += [make(line, base) for line in read_list(text)]
        for listing in req.awesome:
            try:
                links = awesome_links(await self.read_source(listing))
            except RepoError as exc:
                self.fail(listing, str(exc))
                continue
            if not links:
                self.fail(listing, "the awesome list links to no GitHub repository")
                continue
            self.job.log(f"{listing}: {len(links)} GitHub repositories")
            specs += [make(link) for link in links]
        if not specs and self.result.failed:
            return []
        return unique_specs(specs)

    def fail(self, item: str, cause: str) -> None:
        self.result.failed.append((item, cause))
        self.job.item_failed(item, cause)

    async def snapshot(self, rid: str, spec: RepoSpec) -> Snapshot:
        if spec.origin == "github":
            return await self.github().snapshot(spec)
        git = self.ports.git if self.git_ok else None
        if spec.origin == "local":
            return await asyncio.to_thread(
                local_snapshot, Path(spec.location), git, self.cfg, self.ports.count
            )
        if git is None:
            raise RepoError("git is not installed, so this URL cannot be cloned")
        checkout = await self.clone(rid, spec.location)
        snap = await asyncio.to_thread(
            local_snapshot, self.ws.root / checkout, git, self.cfg, self.ports.count
        )
        snap.checkout = checkout
        return snap

    async def clone(self, rid: str, url: str) -> str:
        """Clone into a temp folder, then swap it in for the previous clone."""
        base = repos_dir(self.ws)
        base.mkdir(parents=True, exist_ok=True)
        tmp = base / f".tmp-{rid}-{uuid.uuid4().hex[:8]}"
        try:
            await self.ports.git.clone(
                url, str(tmp), timeout=self.cfg.collect.clone_timeout_seconds
            )
            dest = base / rid
            old = base / f".old-{rid}-{uuid.uuid4().hex[:8]}"
            if dest.exists():
                os.rename(dest, old)
            os.rename(tmp, dest)
            shutil.rmtree(old, ignore_errors=True)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        return f"repos/{rid}"

    async def one(self, sem: asyncio.Semaphore, rid: str, spec: RepoSpec) -> None:
        async with sem:
            if self.job.cancelled:
                raise Cancelled("collect cancelled")
            try:
                snap = await self.snapshot(rid, spec)
            except RepoError as exc:
                self.flush_cache()
                store_failed(self.db, rid, spec, str(exc))
                self.fail(rid, str(exc))
                self.job.advance(item_id=rid, message="failed")
                return
            self.flush_cache()
            store_ok(self.db, rid, spec, snap)
            for note in snap.notes:
                self.job.log(f"{rid}: {note}", level="warning", item_id=rid)
            self.result.ok += 1
            self.job.advance(item_id=rid, message=f"{len(snap.files)} files")

    async def run(self, req: CollectRequest) -> None:
        try:
            specs = await self.specs(req)
            ids = assign_ids(self.db, specs)
            self.job.set_total(len(specs))
            sem = asyncio.Semaphore(self.concurrency)
            # Over the API a repository is a chain of round trips (repository, then README and
            # tree, then key files), so with only `concurrency` repositories started, fewer
            # than `concurrency` requests are in flight at the start and end of every chain.
            # The client bounds requests in flight to `concurrency` itself (GitHubHttp), so more
            # API repositories may be started to keep every connection busy; "one by one"
            # (concurrency 1) still sends one request at a time.
            api_sem = asyncio.Semaphore(self.concurrency * API_REPOS_PER_CONNECTION)
            await all_or_cancel(
                [
                    asyncio.create_task(
                        self.one(api_sem if s.origin == "github" else sem, ids[s.location], s)
                    )
                    for s in specs
                ]
            )
        finally:
            self.flush_cache()  # what was fetched before a stop stays reusable
            if self._api is not None:
                await self._api.aclose()

    def flush_cache(self) -> None:
        if self._github is not None:
            self._github.cache.flush()


def collect(
    ws: Workspace,
    *,
    request: CollectRequest,
    ports: CollectPorts,
    job: Job,
    db: sqlite_utils.Database | None = None,
) -> StageResult:
    """Collect every named repository (blocking; runs its own event loop)."""
    cfg = load_readmes_config(ws)
    own = db is None and job.db is None
    db = stage_db(ws, job, db)
    try:
        run = _Run(ws, db, cfg, ports, job, request.concurrency or cfg.collect.concurrency)
        try:
            asyncio.run(run.run(request))
        finally:
            # What was collected before a stop is kept and exported.
            path = export_collection(ws, db)
        result = run.result
        result.outputs.append(path)
        gh = run._github
        result.summary = {
            "collected": result.ok,
            "failed": len(result.failed),
            "collection": str(COLLECTION_FILE),
            "api_requests": gh.requests if gh else 0,
            "api_not_modified": gh.not_modified if gh else 0,
        }
        if not run.git_ok:
            result.summary["note"] = "git is not installed: GitHub URLs went over the API"
        return result
    finally:
        if own:
            db.close()


__all__ = ["CollectPorts", "CollectRequest", "CollectStop", "collect", "local_snapshot"]
