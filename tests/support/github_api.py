"""A GitHub REST API stand-in on a real LocalServer (127.0.0.1): the four endpoints collect
uses (repository, readme, recursive tree, raw contents), with ETag / If-None-Match answers
(304 when unchanged) and a request log to assert on rate-limit waits and tokens."""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler

from support.http_server import LocalServer, Reply, stopping


def conditional(body: bytes, headers: dict[str, str] | None = None, *, delay: float = 0.0) -> Reply:
    """200 with an ETag, or 304 when the request's If-None-Match names it (after ``delay``)."""
    etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'

    def act(handler: BaseHTTPRequestHandler) -> None:
        if delay:
            stopping(handler).wait(delay)
        extra = dict(headers or {})
        if handler.headers.get("If-None-Match") == etag:
            handler.send_response(304)
            handler.send_header("ETag", etag)
            handler.send_header("Content-Length", "0")
            for key, value in extra.items():
                handler.send_header(key, value)
            handler.end_headers()
            return
        handler.send_response(200)
        handler.send_header("ETag", etag)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(body)))
        for key, value in extra.items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(body)

    return Reply(action=act)


@dataclass
class FakeRepo:
    owner: str
    repo: str
    files: dict[str, str]
    language: str = "Python"
    spdx: str | None = "MIT"
    description: str = "A test repository"
    stars: int = 7
    branch: str = "main"
    submodules: list[str] = field(default_factory=list)


def publish_repo(
    server: LocalServer, repo: FakeRepo, *, readme: str | None = "README.md", delay: float = 0.0
) -> str:
    """Serve ``repo``; returns its github.com URL (the API itself is at server.url(''))."""
    base = f"/repos/{repo.owner}/{repo.repo}"
    meta = {
        "full_name": f"{repo.owner}/{repo.repo}",
        "default_branch": repo.branch,
        "language": repo.language,
        "license": {"spdx_id": repo.spdx} if repo.spdx else None,
        "description": repo.description,
        "stargazers_count": repo.stars,
        "size": 12,
    }
    server.route(base, conditional(json.dumps(meta).encode(), delay=delay))
    if readme is not None:
        data = repo.files[readme].encode()
        body = {
            "name": readme,
            "path": readme,
            "size": len(data),
            "encoding": "base64",
            "content": base64.b64encode(data).decode(),
        }
        server.route(f"{base}/readme", conditional(json.dumps(body).encode(), delay=delay))
    tree = [{"path": p, "type": "blob", "mode": "100644"} for p in repo.files]
    tree += [{"path": s, "type": "commit", "mode": "160000"} for s in repo.submodules]
    server.route(
        f"{base}/git/trees/{repo.branch}",
        conditional(json.dumps({"tree": tree, "truncated": False}).encode(), delay=delay),
    )
    for path, text in repo.files.items():
        server.route(f"{base}/contents/{path}", conditional(text.encode(), delay=delay))
    return f"https://github.com/{repo.owner}/{repo.repo}"
