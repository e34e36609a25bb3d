"""collect over the GitHub REST API, played by a real HTTP server on 127.0.0.1, and awesome
lists parsed with a Markdown parser."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path

import pytest
from helpers import PY_FILES, collect, configure, repo_row
from support.github_api import FakeRepo, conditional, publish_repo
from support.http_server import LocalServer, Reply

from graftwork.core.base.workspace import Workspace
from graftwork.core.sources.readmes.model import CollectStop
from graftwork.core.sources.readmes.specs import awesome_links, github_repo

TOKEN = "ghp_test_token_never_printed_0123456789"


@pytest.fixture
def api_ws(workspace: Workspace, http_server: LocalServer, monkeypatch: pytest.MonkeyPatch):
    configure(
        workspace,
        github={"api_url": http_server.url(""), "retries": 1, "backoff_seconds": 0,
                "max_wait_seconds": 5},
    )  # fmt: skip
    monkeypatch.delenv("GITHUB_TOKEN", raising=False)
    return workspace


def test_repository_over_the_api_with_tree_licence_and_key_files(
    api_ws: Workspace, http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    url = publish_repo(
        http_server,
        FakeRepo("octo", "tool", {**PY_FILES, "node_modules/x.js": "v"}, submodules=["ext/lib"]),
    )
    result = collect(api_ws, url, api=True)
    assert result.ok == 1, result.failed
    row = repo_row(api_ws, "octo__tool")
    assert (row["origin"], row["owner"], row["repo"]) == ("github", "octo", "tool")
    assert row["repo_url"] == "https://github.com/octo/tool"
    assert row["readme"] == PY_FILES["README.md"]
    assert "node_modules/x.js" not in json.loads(row["file_tree"])
    assert (row["license"], row["language"], row["project_type"]) == ("MIT", "Python", "cli")
    assert (row["stars"], row["description"]) == (7, "A test repository")
    assert json.loads(row["notes"]) == ["submodule ext/lib not collected"]
    assert [k["path"] for k in json.loads(row["key_files"])] == [
        "pyproject.toml",
        "src/tool/cli.py",
    ]
    auth = {h.get("authorization") for h in http_server.headers}
    assert auth == {f"Bearer {TOKEN}"}  # the token travels in the header, and only there
    with api_ws.catalog() as db:
        stored = "\n".join(
            str(v) for r in db.query("SELECT * FROM readme_repos") for v in r.values()
        )
        logs = "\n".join(r["message"] for r in db.query("SELECT message FROM job_logs"))
    assert TOKEN not in stored + logs + (api_ws.root / "graftwork.db").read_bytes().decode(
        "latin-1"
    )


def test_concurrency_bounds_requests_in_flight_and_keeps_them_all_busy(
    api_ws: Workspace, http_server: LocalServer
) -> None:
    # Each repository is a chain of round trips; more repositories than connections are
    # started so the connections stay busy, but never more requests than --concurrency.
    urls = [
        publish_repo(http_server, FakeRepo("octo", f"r{i}", PY_FILES), delay=0.03) for i in range(6)
    ]
    # The first requests wait at the server until three are in flight: however slowly a
    # loaded machine lets the client send them, the three it keeps going are seen together.
    http_server.hold_until_in_flight(3)
    result = collect(api_ws, *urls, api=True, concurrency=3)
    assert result.ok == 6
    assert http_server.max_in_flight == 3
    with api_ws.catalog() as db:  # every answer's ETag is kept for the next collect
        assert db["readme_http_cache"].count == http_server.count()
    http_server.max_in_flight = 0
    assert collect(api_ws, *urls, api=True, concurrency=1).ok == 6
    assert http_server.max_in_flight == 1  # one by one is one request at a time


def test_recollect_sends_if_none_match_and_reuses_unchanged_answers(
    api_ws: Workspace, http_server: LocalServer
) -> None:
    url = publish_repo(http_server, FakeRepo("octo", "tool", PY_FILES))
    first = collect(api_ws, url, api=True)
    assert first.summary["api_not_modified"] == 0
    http_server.clear_log()
    second = collect(api_ws, url, api=True)
    assert second.ok == 1
    assert second.summary["api_requests"] == first.summary["api_requests"]
    assert second.summary["api_not_modified"] == second.summary["api_requests"]
    assert all(h.get("if-none-match") for h in http_server.headers)
    assert repo_row(api_ws, "octo__tool")["readme"] == PY_FILES["README.md"]


def test_rate_limits_are_waited_out(api_ws: Workspace, http_server: LocalServer) -> None:
    url = publish_repo(http_server, FakeRepo("octo", "tool", PY_FILES))
    meta = http_server.routes["/repos/octo/tool"][0]
    reset = str(int(time.time()) + 1)
    http_server.route(
        "/repos/octo/tool",
        Reply(status=403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}),
        meta,
    )
    http_server.route(
        "/repos/octo/tool/readme",
        Reply(status=429, headers={"Retry-After": "1"}),
        http_server.routes["/repos/octo/tool/readme"][0],
    )
    started = time.monotonic()
    result = collect(api_ws, url, api=True)
    assert result.ok == 1, result.failed
    assert time.monotonic() - started >= 1.0
    assert http_server.count("/repos/octo/tool") == 2
    assert http_server.count("/repos/octo/tool/readme") == 2


def test_a_rate_limit_too_far_away_stops_and_says_when(
    api_ws: Workspace, http_server: LocalServer
) -> None:
    url = publish_repo(http_server, FakeRepo("octo", "tool", PY_FILES))
    reset = str(int(time.time()) + 3600)
    http_server.route(
        "/repos/octo/tool",
        Reply(status=403, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": reset}),
    )
    with pytest.raises(CollectStop, match=r"rate limit reached; it resets at .* set GITHUB_TOKEN"):
        collect(api_ws, url, api=True)


def test_a_rejected_token_stops_at_once_without_showing_it(
    api_ws: Workspace, http_server: LocalServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    urls = [publish_repo(http_server, FakeRepo("octo", f"r{i}", PY_FILES)) for i in range(4)]
    for i in range(4):
        http_server.route(
            f"/repos/octo/r{i}", Reply(status=401, body=b'{"message":"Bad credentials"}')
        )
    with pytest.raises(CollectStop) as err:
        collect(api_ws, *urls, api=True, concurrency=1)
    assert "401" in str(err.value) and "$GITHUB_TOKEN" in str(err.value)
    assert TOKEN not in str(err.value)
    assert http_server.count() == 1  # nothing else was sent


def test_missing_repository_and_missing_readme_fail_by_name(
    api_ws: Workspace, http_server: LocalServer
) -> None:
    good = publish_repo(http_server, FakeRepo("octo", "good", PY_FILES))
    bare = publish_repo(http_server, FakeRepo("octo", "bare", {"a.py": "x"}), readme=None)
    result = collect(api_ws, good, bare, "https://github.com/octo/ghost", api=True)
    assert result.ok == 1
    assert dict(result.failed) == {
        "octo__bare": "no README at the top level",
        "octo__ghost": "GitHub repository octo/ghost not found (404): private or missing",
    }


def test_bad_repositories_over_the_api_are_named_and_the_others_go_on(
    api_ws: Workspace, http_server: LocalServer
) -> None:
    configure(
        api_ws,
        github={"api_url": http_server.url(""), "retries": 0},
        collect={"max_files": 5, "max_readme_bytes": 2000},
    )
    good = publish_repo(http_server, FakeRepo("octo", "good", PY_FILES))
    big = publish_repo(http_server, FakeRepo("octo", "big", {"README.md": "word " * 600}))
    latin = publish_repo(http_server, FakeRepo("octo", "latin", {"README.md": "x"}))
    raw = "Caf\xe9\n".encode("latin-1")
    http_server.route(
        "/repos/octo/latin/readme",
        json.dumps(
            {"path": "README.md", "size": len(raw), "content": base64.b64encode(raw).decode()}
        ).encode(),
    )
    empty = publish_repo(http_server, FakeRepo("octo", "empty", {"README.md": "x"}))
    http_server.route(
        "/repos/octo/empty", json.dumps({"default_branch": "main", "size": 0}).encode()
    )
    many = publish_repo(
        http_server,
        FakeRepo("octo", "many", {"README.md": "# M"} | {f"f{i}.py": "" for i in range(6)}),
    )
    result = collect(api_ws, good, big, latin, empty, many, api=True)
    assert result.ok == 1
    assert dict(result.failed) == {
        "octo__big": "README.md is 3,000 bytes, over the 2,000 bytes limit",
        "octo__latin": "README.md is not UTF-8 (invalid byte at offset 3)",
        "octo__empty": "empty repository (no commits)",
        "octo__many": "7 files, over the limit of 5 (max_files)",
    }
    exported = json.loads((api_ws.root / "collection/awesome_readme_data.json").read_text())
    assert [r["repo"] for r in exported] == ["good"]


AWESOME = """# Awesome READMEs

A curated list. ![badge](https://github.com/badges/shields/raw/master/x.svg)

- [tool](https://github.com/octo/tool) - a tool.
- [Same tool, other page](https://github.com/octo/tool/blob/main/README.md)
- [other][ref] and <https://github.com/acme/widget>
- `https://github.com/not/a-link` in code
- [topics](https://github.com/topics/readme) and [site](https://example.com/x/y)

[ref]: https://github.com/octo/other.git

Bare URLs count too: https://github.com/bare/one, github.com/bare/two; and again
https://github.com/OCTO/tool/ (the same repository, another spelling).

```
https://github.com/in/fence
```

    https://github.com/in/indented-code
"""


def test_awesome_list_links_are_read_with_a_markdown_parser() -> None:
    assert awesome_links(AWESOME) == [
        "https://github.com/octo/tool",
        "https://github.com/octo/other",
        "https://github.com/acme/widget",
        "https://github.com/bare/one",
        "https://github.com/bare/two",
    ]
    assert github_repo("git@github.com:octo/tool.git") == ("octo", "tool")
    assert github_repo("https://gitlab.com/octo/tool") is None


def test_awesome_list_file_and_url_and_one_without_links(
    api_ws: Workspace, http_server: LocalServer, tmp_path: Path
) -> None:
    url = publish_repo(http_server, FakeRepo("octo", "tool", PY_FILES))
    listing = tmp_path / "awesome.md"
    listing.write_text(f"# List\n\n- [tool]({url})\n")
    empty = tmp_path / "empty.md"
    empty.write_text("# Nothing\n\nJust prose, [a site](https://example.com).\n")
    served = http_server.route("/list.md", conditional(listing.read_bytes()))
    result = collect(api_ws, awesome=[str(listing), served, str(empty)], api=True)
    assert result.ok == 1
    assert result.failed == [(str(empty), "the awesome list links to no GitHub repository")]
