"""Ingest never ends in a traceback: each bad item (hostile archive member, undecodable
member, unusable URL, unusable id) fails alone with one line naming it and its cause, and a
bad manifest stops the run with one line (exit 2). Real server on 127.0.0.1, real zips, the
real CLI entry point in-process."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support.cli import run_main
from support.http_server import LocalServer
from support.zips import make_zip, widget_zip

from graftwork import wiring
from graftwork.core.base.jobs import StageResult, run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.ingest.manifest import parse_manifest

FAST = {"retries": 1, "backoff_seconds": 0, "timeout_seconds": 10}  # local replies: ample


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def configure(ws: Workspace) -> None:
    data = yaml.safe_load(ws.config_path.read_text(encoding="utf-8"))
    data["project"] = {"ingest": FAST}
    ws.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")


def run_ingest(ws: Workspace, entries: list, tmp_path: Path) -> StageResult:
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"widgets": entries}), encoding="utf-8")
    with ws.catalog() as db:
        return run_job(db, "ingest", lambda job: wiring.ingest(ws, str(manifest), job=job))


def corrupt_member_zip(compression: int) -> bytes:
    """A zip whose only member's compressed stream is garbage (its CRC and sizes still fit)."""
    data = bytearray(make_zip({"bad.widget/index.jsx": "x" * 4000}, compression=compression))
    start = 30 + len("bad.widget/index.jsx")  # the local header, then the data
    for i in range(start + 4, start + 40):
        data[i] ^= 0x5A
    return bytes(data)


def long_member_zip() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("long.widget/index.jsx", "x")
        zf.writestr("long.widget/" + "a" * 300 + ".jsx", "y")  # > 255 bytes: ENAMETOOLONG
    return buf.getvalue()


def test_item_errors_fail_alone_with_one_line(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    configure(workspace)
    entries = [
        {"id": "good", "downloadUrl": server.route("/good.zip", widget_zip("good"))},
        {"id": "long", "downloadUrl": server.route("/long.zip", long_member_zip())},
        {
            "id": "bz2",
            "downloadUrl": server.route("/bz2.zip", corrupt_member_zip(zipfile.ZIP_BZIP2)),
        },
        {
            "id": "lzma",
            "downloadUrl": server.route("/lzma.zip", corrupt_member_zip(zipfile.ZIP_LZMA)),
        },
        {"id": "nul", "downloadUrl": str(tmp_path / "a\x00b.zip")},
        {"id": "ipv6", "downloadUrl": "http://[::1"},
        {"id": "é" * 200, "downloadUrl": server.route("/e.zip", widget_zip("e"))},
        {
            "id": "deep",
            "downloadUrl": server.url("/x.zip"),
            "extra": json.loads("[" * 200 + "]" * 200),
        },
        {
            "id": "shot",
            "downloadUrl": server.route("/shot.zip", widget_zip("shot")),
            "screenshotUrl": "http://[::1/s.png",
        },
    ]
    result = run_ingest(workspace, entries, tmp_path)
    failed = dict(result.failed)
    assert result.ok == 2  # good, and shot (a broken screenshot URL is only a warning)
    assert (workspace.downloads_dir / "good").is_dir()
    assert "name too long" in failed["long"].lower() and "a" * 20 in failed["long"]
    assert "corrupt member" in failed["bz2"]
    assert "corrupt member" in failed["lzma"]
    labels = " | ".join(f"{k}: {v}" for k, v in result.failed)
    assert "invalid 'downloadUrl'" in labels and "IPv6" in labels
    assert "bytes" in labels  # the é id: 400 bytes in UTF-8
    assert "NUL byte" in labels
    assert "nested deeper" in labels
    for item, cause in result.failed:
        assert "\n" not in cause and "Traceback" not in cause and "TypeError" not in cause, item


def test_deeply_nested_manifest_is_one_line_exit_2(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000, encoding="utf-8")
    assert run_main(workspace, "ingest", "--manifest", str(path)) == 2
    err = capsys.readouterr().err
    assert "nested too deeply" in err and str(path) in err
    assert len(err.strip().splitlines()) == 1


def test_malformed_manifest_url_is_one_line_exit_2(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_main(workspace, "ingest", "--manifest", "http://[::1") == 2
    err = capsys.readouterr().err
    assert "http://[::1" in err and "IPv6" in err and len(err.strip().splitlines()) == 1


def test_id_limit_counts_bytes() -> None:
    ok = "é" * 100  # 200 bytes
    parsed = parse_manifest(
        json.dumps([{"id": ok, "downloadUrl": "a.zip"}, {"id": "é" * 101, "downloadUrl": "b.zip"}]),
        "m.json",
    )
    assert [e.id for e in parsed.entries] == [ok]
    assert "bytes" in parsed.problems[0].cause
