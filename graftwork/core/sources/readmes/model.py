"""What collect works with: where a repository comes from, what was read from it, and the
errors that fail one repository or stop the whole collect."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from graftwork.core.base.errors import GraftworkError


class RepoError(GraftworkError):
    """This repository cannot be collected (the cause is one line); the others go on."""


class CollectStop(GraftworkError):
    """Nothing else can be collected this way (git missing, a rejected token): stops the run.
    The message never holds a token."""

    exit_code = 2


class CollectUsageError(GraftworkError):
    """Bad sources given on the command line (nothing to collect, an unreadable list)."""

    exit_code = 2


@dataclass(frozen=True)
class RepoSpec:
    """One repository to collect. ``location`` is what the user named; ``origin`` says how it
    is read: local (a folder, read in place), git (cloned shallow), github (REST API)."""

    location: str
    origin: str  # local | git | github
    name: str  # a readable base for the id (folder name, owner__repo)
    owner: str = ""
    repo: str = ""
    repo_url: str = ""


@dataclass
class KeyFile:
    path: str
    content: str
    tokens: int
    truncated: bool

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "content": self.content,
            "tokens": self.tokens,
            "truncated": self.truncated,
        }


@dataclass
class Snapshot:
    """What was read from one repository."""

    readme_path: str
    readme: str
    readme_bytes: int
    files: list[str]
    language: str = ""
    project_type: str = ""
    license: str = ""
    key_files: list[KeyFile] = field(default_factory=list)
    description: str = ""
    stars: int | None = None
    default_branch: str = ""
    checkout: str = ""
    notes: list[str] = field(default_factory=list)


class GitPort(Protocol):
    """The git CLI (graftwork/adapters/git_cli.py)."""

    def available(self) -> bool: ...

    async def clone(self, url: str, dest: str, *, timeout: float) -> None:
        """Shallow clone (depth 1, no submodules); RepoError with the cause on failure."""
        ...

    def tracked(self, root: str) -> tuple[list[str], list[str]] | None:
        """(tracked file paths, submodule paths) of a work tree; None if not a git work tree."""
        ...


@dataclass(frozen=True)
class ApiResponse:
    status: int  # 200 or 304
    body: bytes
    etag: str | None = None


class GitHubPort(Protocol):
    """GET on the GitHub REST API (graftwork/adapters/github_http.py). The adapter honours
    rate limits (waits for Retry-After and X-RateLimit-Reset up to a bound) and raises
    RepoError for a missing repository or file (404), CollectStop for a rejected token (401)
    or a rate limit too far away; 304 comes back as a response for the caller's cache. It
    bounds the requests in flight (collect starts more API repositories than that)."""

    async def get(self, path: str, *, accept: str, etag: str | None = None) -> ApiResponse: ...

    async def aclose(self) -> None: ...


class TextReader(Protocol):
    """Reads a file path or an http(s) URL (for awesome lists and list files)."""

    async def read(self, url: str, *, max_bytes: int) -> bytes: ...


class NotFoundError(RepoError):
    """The host says 404 for this path (the caller names what was missing)."""
