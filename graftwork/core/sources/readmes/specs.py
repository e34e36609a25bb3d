"""What to collect: paths and URLs from the command line, a list file (one per line) and
awesome lists (Markdown whose GitHub repository links are read with a Markdown parser)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

from graftwork.core.sources.readmes.model import CollectUsageError, RepoSpec

# github.com paths that are not repositories (first path segment).
_GITHUB_RESERVED = {
    "about", "apps", "collections", "contact", "customer-stories", "enterprise", "events",
    "explore", "features", "issues", "login", "marketplace", "notifications", "orgs",
    "organizations", "pricing", "pulls", "search", "security", "settings", "site", "sponsors",
    "topics", "trending", "users", "join", "new", "codespaces", "readme", "team", "resources",
}  # fmt: skip
_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")
_SCP = re.compile(r"^[\w.-]+@([\w.-]+):(.+)$")  # git@host:owner/repo.git


def github_repo(url: str) -> tuple[str, str] | None:
    """(owner, repo) when ``url`` names a repository on github.com (any page inside it)."""
    m = _SCP.match(url)
    if m:
        host, path = m.group(1), m.group(2)
    else:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https", "git", "ssh"):
            return None
        host, path = parts.hostname or "", parts.path
    if host.lower() not in ("github.com", "www.github.com"):
        return None
    segs = [s for s in path.split("/") if s]
    if len(segs) < 2 or segs[0].lower() in _GITHUB_RESERVED:
        return None
    owner, repo = segs[0], segs[1].removesuffix(".git")
    if not (_NAME.match(owner) and _NAME.match(repo)) or repo in (".", ".."):
        return None
    return owner, repo


def is_remote(text: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*://", text) or _SCP.match(text))


def _slug(text: str) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", text).strip("-.")
    return slug or "repo"


def spec_for(
    text: str, *, use_api: bool, git_available: bool, base: Path | None = None
) -> RepoSpec:
    """A RepoSpec for one source as given (a folder path or a URL git accepts)."""
    text = text.strip()
    gh = github_repo(text)
    if gh is not None:
        owner, repo = gh
        url = f"https://github.com/{owner}/{repo}"
        origin = "github" if (use_api or not git_available) else "git"
        location = url if origin == "github" else text
        return RepoSpec(location, origin, f"{owner}__{repo}", owner, repo, url)
    if is_remote(text):
        if text.startswith("file://"):
            path = Path(urlsplit(text).path)
            name = path.name.removesuffix(".git")
        else:
            tail = re.split(r"[/:]", text.rstrip("/"))
            name = tail[-1].removesuffix(".git") if tail else "repo"
        return RepoSpec(text, "git", _slug(name), repo=name, repo_url=text)
    path = Path(text).expanduser()
    if not path.is_absolute() and base is not None:
        path = base / path
    path = path.resolve()
    return RepoSpec(str(path), "local", _slug(path.name), repo=path.name, repo_url=str(path))


def read_list(text: str) -> list[str]:
    """Lines of a list file: one source a line; blank lines and # comments ignored."""
    out = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            out.append(line)
    return out


def awesome_links(markdown: str) -> list[str]:
    """Every github.com repository an awesome list links to, once each, in order.

    Links are taken from the parsed document: inline links, reference links, autolinks
    (<https://...>) and bare URLs in the text (https://github.com/o/r or github.com/o/r, found by
    markdown-it's linkify rule, which uses linkify-it-py and so leaves trailing punctuation
    out). Code spans, code blocks and images are never read as links. Each repository once
    (owner/name compared without case), in the order of its first mention."""
    md = MarkdownIt("commonmark", {"linkify": True}).enable("linkify")
    seen: dict[tuple[str, str], str] = {}
    for token in md.parse(markdown):
        for child in token.children or ():
            if child.type != "link_open":
                continue
            href = str(child.attrGet("href") or "")
            gh = github_repo(href)
            if gh is not None:
                key = (gh[0].lower(), gh[1].lower())
                seen.setdefault(key, f"https://github.com/{gh[0]}/{gh[1]}")
    return list(seen.values())


def unique_specs(specs: Iterable[RepoSpec]) -> list[RepoSpec]:
    out: dict[str, RepoSpec] = {}
    for spec in specs:
        out.setdefault(spec.location, spec)
    if not out:
        raise CollectUsageError(
            "nothing to collect: give folders or URLs, --repos FILE or --awesome FILE_OR_URL"
        )
    return list(out.values())
