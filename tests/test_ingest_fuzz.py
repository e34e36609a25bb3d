"""Fuzzed ingest: seeded mutations of manifests, archives and HTTP answers, served by the real
local HTTP server (tests/support/http_server.py) and ingested by the real CLI entry point.

Every case must end with exit code 0, 1 or 2, without a traceback or the error boundary's
"unexpected" fallback (that would be a bug caught only by the last line of defence), and
without a file written outside the workspace. The mutations are seeded: a failure names its
case, and `GRAFTWORK_FUZZ_CASES=1000 pytest tests/test_ingest_fuzz.py` runs a longer campaign.
"""

from __future__ import annotations

import io
import json
import os
import random
import stat
import zipfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from support.cli import run_main
from support.http_server import LocalServer, Reply, reset_connection
from support.zips import make_zip, widget_zip

from graftwork.core.base.workspace import Workspace

pytestmark = pytest.mark.filterwarnings("ignore:Duplicate name")  # duplicates are the point
CASES = int(os.environ.get("GRAFTWORK_FUZZ_CASES", "30"))
IDS = ("alpha", "beta", "gamma")

# Values a hostile or broken manifest might hold anywhere.
ODD_VALUES: list[Any] = [
    None,
    0,
    -1,
    1e308,
    True,
    [],
    {},
    "",
    " ",
    "\x00",
    "é" * 150,
    "\ud800",
    "../../etc/passwd",
    "/etc/passwd",
    "http://[::1",
    "http://127.0.0.1:1/refused.zip",
    "http://127.0.0.1:99999999/x.zip",
    "file:///etc/passwd",
    "file://otherhost/x.zip",
    "ftp://example.invalid/x.zip",
    "C:\\widgets\\x.zip",
    "a" * 5000,
    "[bold]markup[/]",
    "\u202etxt.exe",
    ".hidden",
    json.loads("[" * 60 + "]" * 60),
]
ODD_NAMES = [
    "../evil.jsx",
    "/abs/evil.jsx",
    "w.widget\\..\\..\\evil.jsx",
    "C:/evil.jsx",
    "w.widget/" + "n" * 300 + ".jsx",
    "w.widget/" + "é" * 130 + ".jsx",
    "w.widget/a\x01b.jsx",
    "w.widget/",
    "",
]


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def _zip_with(names: list[str], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for n, name in enumerate(names):
            info = zipfile.ZipInfo(name or f"x{n}")
            info.compress_type = compression
            zf.writestr(info, f"// {n}\n" * 50)
    return buf.getvalue()


def _symlink_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("w.widget/index.jsx", "x")
        info = zipfile.ZipInfo("w.widget/link")
        info.create_system = 3
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zf.writestr(info, "/etc/passwd")
    return buf.getvalue()


def _flip(data: bytes, rng: random.Random, count: int) -> bytes:
    out = bytearray(data)
    for _ in range(count):
        if out:
            out[rng.randrange(len(out))] = rng.randrange(256)
    return bytes(out)


def mutate_archive(data: bytes, rng: random.Random) -> Reply | bytes:
    """One hostile answer for an archive URL."""
    choices: list[Callable[[], Reply | bytes]] = [
        lambda: _flip(data, rng, rng.randint(1, 20)),
        lambda: data[: rng.randrange(len(data))],
        lambda: os.urandom(rng.randint(0, 64)) + data,
        lambda: b"<!doctype html><html><body>Moved</body></html>",
        lambda: b"",
        lambda: _zip_with([rng.choice(ODD_NAMES) for _ in range(rng.randint(1, 3))]),
        lambda: _zip_with(["w.widget/a.jsx", "w.widget/a.jsx"]),
        lambda: _zip_with(["w.widget/a", "w.widget/a/b.jsx"]),
        lambda: _flip(_zip_with(["w.widget/a.jsx"], zipfile.ZIP_BZIP2), rng, 8),
        lambda: _flip(_zip_with(["w.widget/a.jsx"], zipfile.ZIP_LZMA), rng, 8),
        _symlink_zip,
        lambda: make_zip({}),
        lambda: Reply(status=rng.choice([301, 403, 404, 418, 500, 503, 599])),
        lambda: Reply(status=302, headers={"Location": "/redirect-loop"}),
        lambda: Reply(body=data, headers={"Content-Length": str(len(data) + 100)}),
        lambda: Reply(action=reset_connection),
    ]
    return rng.choice(choices)()


def _set_path(doc: Any, rng: random.Random, value: Any) -> Any:
    """Put ``value`` at a random place of the manifest document."""
    entries = doc["widgets"]
    where = rng.random()
    if where < 0.1:
        return value  # the whole document
    if where < 0.2:
        return {"widgets": value}
    if where < 0.3:
        entries.insert(rng.randrange(len(entries) + 1), value)  # an entry
        return doc
    dicts = [e for e in entries if isinstance(e, dict)]
    if not dicts:
        return doc
    entry = rng.choice(dicts)
    key = rng.choice(["id", "downloadUrl", "screenshotUrl", "name", "author", "description", "x"])
    entry[key] = value
    return doc


def mutate_manifest(doc: dict[str, Any], rng: random.Random) -> bytes:
    """The manifest's bytes after one to three structural or byte-level mutations."""
    for _ in range(rng.randint(1, 3)):
        if not isinstance(doc, dict) or not isinstance(doc.get("widgets"), list):
            break
        dicts = [e for e in doc["widgets"] if isinstance(e, dict)]
        if dicts and rng.random() < 0.15:
            doc["widgets"].append(dict(rng.choice(dicts)))  # a duplicate id
        else:
            doc = _set_path(doc, rng, rng.choice(ODD_VALUES))
    text = json.dumps(doc, ensure_ascii=rng.random() < 0.5)
    data = text.encode("utf-8", "surrogatepass")
    roll = rng.random()
    if roll < 0.15:
        data = _flip(data, rng, rng.randint(1, 5))
    elif roll < 0.25:
        data = data[: rng.randrange(max(len(data), 1))]
    elif roll < 0.3:
        data = b"\xef\xbb\xbf" + data  # a BOM
    return data


def tree(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


@pytest.mark.parametrize("seed", range(CASES))
def test_fuzzed_ingest_never_crashes(
    seed: int, server: LocalServer, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rng = random.Random(seed)
    ws = Workspace.init(tmp_path / "ws")
    config = yaml.safe_load(ws.config_path.read_text(encoding="utf-8"))
    config["project"] = {
        "ingest": {"retries": 1, "backoff_seconds": 0, "timeout_seconds": 0.5, "concurrency": 3}
    }
    ws.config_path.write_text(yaml.safe_dump(config), encoding="utf-8")

    entries = []
    for item_id in IDS:
        data = widget_zip(item_id)
        reply = mutate_archive(data, rng) if rng.random() < 0.6 else data
        entries.append(
            {
                "id": item_id,
                "name": item_id.title(),
                "downloadUrl": server.route(f"/{item_id}.zip", reply),
                "screenshotUrl": server.route(
                    f"/{item_id}.png", rng.choice([b"\x89PNG", Reply(status=500), b""])
                ),
            }
        )
    server.route("/redirect-loop", Reply(status=302, headers={"Location": "/redirect-loop"}))
    manifest = tmp_path / "manifest.json"
    doc = {"widgets": entries}
    manifest.write_bytes(
        mutate_manifest(doc, rng) if rng.random() < 0.6 else json.dumps(doc).encode()
    )
    url = server.route("/manifest.json", manifest.read_bytes())
    outside_before = tree(tmp_path) - {p for p in tree(tmp_path) if p.startswith("ws")}

    code = run_main(ws, "ingest", "--manifest", url if rng.random() < 0.5 else str(manifest))
    err = capsys.readouterr().err

    assert code in (0, 1, 2), f"case {seed}: exit {code}\n{err}"
    assert "Traceback" not in err, f"case {seed}\n{err}"
    # The boundary's fallback ("error: unexpected ValueError: ...") means a cause nobody handled.
    assert "error: unexpected " not in err and "--debug" not in err, f"case {seed}: a bug\n{err}"
    outside_after = tree(tmp_path) - {p for p in tree(tmp_path) if p.startswith("ws")}
    assert outside_after == outside_before, f"case {seed}: wrote outside the workspace"
    leftovers = [p for p in (ws.downloads_dir / ".ingest-tmp").glob("*")]
    assert leftovers == [], f"case {seed}: temp folders left: {leftovers}"
