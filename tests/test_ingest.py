"""Ingest end to end: a real threaded server on 127.0.0.1, real zips, a real SQLite catalog,
the real `graftwork` command in a subprocess (exit codes, SIGKILL mid-run)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from support.http_server import HOLD, LocalServer, Reply, reset_connection
from support.zips import bomb_zip, make_zip, symlink_zip, widget_zip

from graftwork import wiring
from graftwork.core.base.jobs import StageResult, run_job
from graftwork.core.base.workspace import Workspace

GRAFTWORK = Path(sys.executable).with_name("graftwork")
# A generous timeout: local replies take milliseconds, but a loaded CI box can stall a thread
# for a while; replies meant to time out are held (HOLD) until the server stops.
FAST = {"retries": 1, "backoff_seconds": 0, "timeout_seconds": 10}


@pytest.fixture
def server() -> Iterator[LocalServer]:
    with LocalServer() as running:
        yield running


def configure(ws: Workspace, **ingest: object) -> None:
    data = yaml.safe_load(ws.config_path.read_text(encoding="utf-8"))
    data["project"] = {"ingest": {**FAST, **ingest}}
    ws.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")


def publish(server: LocalServer, ids: list[str], *, screenshots: bool = False) -> list[dict]:
    """Serve a widget zip per id; return manifest entries pointing at them."""
    entries = []
    for n, item_id in enumerate(ids):
        entry = {
            "id": item_id,
            "name": f"Name {item_id}",
            "author": "Tess",
            "description": f"About {item_id}",
            "downloadUrl": server.route(f"/{item_id}.zip", widget_zip(item_id)),
            "modifiedAt": n,
        }
        if screenshots:
            entry["screenshotUrl"] = server.route(f"/{item_id}.png", b"\x89PNG fake")
        entries.append(entry)
    return entries


def write_manifest(path: Path, entries: list) -> str:
    path.write_text(json.dumps({"widgets": entries}), encoding="utf-8")
    return str(path)


def ingest(ws: Workspace, manifest: str, **kw: object) -> StageResult:
    with ws.catalog() as db:
        return run_job(db, "ingest", lambda job: wiring.ingest(ws, manifest, job=job, **kw))


def rows(ws: Workspace, sql: str, params: list | None = None) -> list[dict]:
    with ws.catalog() as db:
        return list(db.query(sql, params or []))


def visible(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))


def graftwork(ws: Workspace, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(GRAFTWORK), "-w", str(ws.root), "ingest", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# ---- the happy path and skip work ---------------------------------------------------------


def test_ingest_downloads_extracts_and_records(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    configure(workspace)
    entries = publish(server, ["alpha", "beta", "gamma"], screenshots=True)
    result = ingest(workspace, write_manifest(tmp_path / "m.json", entries))

    assert (result.ok, result.failed) == (3, [])
    downloads = workspace.downloads_dir
    assert visible(downloads) == ["alpha", "beta", "gamma"]
    assert sorted(p.name for p in (downloads / "alpha").rglob("*") if p.is_file()) == [
        "README.md",
        "index.jsx",
    ]
    assert not (downloads / ".ingest-tmp").exists()

    item = rows(workspace, "select * from items where id = 'beta'")[0]
    assert (
        item["source"],
        item["name"],
        item["author"],
        item["description"],
        item["manifest_order"],
    ) == (
        "uebersicht",
        "Name beta",
        "Tess",
        "About beta",
        1,
    )
    assert json.loads(item["manifest"]) == entries[1]
    row = rows(workspace, "select * from downloads where item_id = 'beta'")[0]
    archive = downloads / ".archives" / "beta.zip"
    assert row["status"] == "ok" and row["error"] is None and row["attempts"] == 1
    assert row["archive_sha256"] == hashlib.sha256(archive.read_bytes()).hexdigest()
    assert row["archive_bytes"] == archive.stat().st_size
    assert row["file_count"] == 2 and row["path"] == "downloads/beta"
    assert row["extracted_bytes"] == sum(
        p.stat().st_size for p in (downloads / "beta").rglob("*") if p.is_file()
    )
    assert row["screenshot_path"] == "downloads/.screenshots/beta.png"
    assert (downloads / ".screenshots" / "beta.png").read_bytes() == b"\x89PNG fake"
    job = rows(workspace, "select * from jobs where kind = 'ingest'")[0]
    assert (job["state"], job["total"], job["done"], job["failed"]) == ("done", 3, 3, 0)


def test_second_run_makes_zero_requests(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    configure(workspace)
    manifest = write_manifest(
        tmp_path / "m.json", publish(server, ["a", "b", "c"], screenshots=True)
    )
    ingest(workspace, manifest)
    server.clear_log()
    result = ingest(workspace, manifest)
    assert server.count() == 0
    assert result.ok == 3 and sorted(i for i, _ in result.skipped) == ["a", "b", "c"]
    assert result.summary == {"downloaded": 0, "unchanged": 3, "failed": 0}


def test_changed_or_missing_files_are_fetched_again(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    configure(workspace)
    manifest = write_manifest(tmp_path / "m.json", publish(server, ["a", "b", "c"]))
    ingest(workspace, manifest)
    server.clear_log()
    (workspace.downloads_dir / ".archives" / "a.zip").write_bytes(b"tampered")
    shutil.rmtree(workspace.downloads_dir / "b")
    result = ingest(workspace, manifest)
    assert sorted(p for _, p in server.requests) == ["/a.zip", "/b.zip"]
    assert (
        result.summary["downloaded"] == 2 and (workspace.downloads_dir / "b" / "b.widget").is_dir()
    )


def test_refresh_keeps_unchanged_extraction_and_replaces_changed_one(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    configure(workspace)
    manifest = write_manifest(tmp_path / "m.json", publish(server, ["a", "b"]))
    ingest(workspace, manifest)
    marker_a = workspace.downloads_dir / "a" / "marker"
    marker_b = workspace.downloads_dir / "b" / "marker"
    marker_a.write_text("still here")
    marker_b.write_text("will go")
    server.route("/b.zip", make_zip({"b.widget/index.jsx": "// version 2"}))
    server.clear_log()

    result = ingest(workspace, manifest, refresh=True)

    assert sorted(p for _, p in server.requests) == ["/a.zip", "/b.zip"]  # both asked again
    assert marker_a.read_text() == "still here"  # same sha256: not re-extracted
    assert not marker_b.exists()  # changed: the old extraction was replaced whole
    assert (workspace.downloads_dir / "b" / "b.widget" / "index.jsx").read_text() == "// version 2"
    assert not (workspace.downloads_dir / "b" / "b.widget" / "README.md").exists()
    assert result.summary == {"downloaded": 1, "unchanged": 1, "failed": 0}
    assert visible(workspace.downloads_dir) == ["a", "b"]


def test_failed_refresh_keeps_the_earlier_download(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    configure(workspace)
    manifest = write_manifest(tmp_path / "m.json", publish(server, ["keep"]))
    ingest(workspace, manifest)
    before = rows(workspace, "select * from downloads")[0]
    server.route("/keep.zip", Reply(status=404))
    result = ingest(workspace, manifest, refresh=True)
    assert result.failed == [("keep", "HTTP 404 Not Found")]
    after = rows(workspace, "select * from downloads")[0]
    assert (after["status"], after["error"]) == ("ok", "HTTP 404 Not Found")
    assert after["archive_sha256"] == before["archive_sha256"]
    assert (workspace.downloads_dir / "keep" / "keep.widget" / "index.jsx").is_file()


# ---- bad input: each item fails alone, with a one-line cause ------------------------------


def test_bad_items_are_reported_and_the_rest_carry_on(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    # 3 s: ample for every local reply; "slow" is held past both attempts whatever the load.
    configure(workspace, timeout_seconds=3, max_compression_ratio=50, retries=1)
    good = publish(server, ["good1", "good2"])
    flaky = {
        "id": "flaky",
        "downloadUrl": server.route("/flaky.zip", Reply(status=500), widget_zip("flaky")),
    }
    bad = {
        "missing": server.url("/missing.zip"),
        "html": server.route(
            "/html.zip",
            Reply(
                body=b"<!DOCTYPE html><html><body>Login</body></html>",
                headers={"Content-Type": "text/html"},
            ),
        ),
        "corrupt": server.route("/corrupt.zip", b"PK\x03\x04" + b"\x00garbage" * 20),
        "symlink": server.route("/symlink.zip", symlink_zip()),
        "absolute": server.route("/absolute.zip", make_zip({"/etc/cron.d/evil": "x"})),
        "dotdot": server.route("/dotdot.zip", make_zip({"w/../../evil.jsx": "x"})),
        "bomb": server.route("/bomb.zip", bomb_zip(50)),
        "slow": server.route("/slow.zip", Reply(body=widget_zip("slow"), delay=HOLD)),
        "reset": server.route("/reset.zip", Reply(action=reset_connection)),
        "down": server.route("/down.zip", Reply(status=503)),
        "empty": server.route("/empty.zip", b""),
    }
    entries = [*good, flaky, *({"id": k, "downloadUrl": v} for k, v in bad.items())]
    entries.append({"id": "../escape", "downloadUrl": server.url("/x.zip")})
    result = ingest(workspace, write_manifest(tmp_path / "m.json", entries), concurrency=4)

    causes = dict(result.failed)
    assert causes == {
        "entry #14 (id '../escape')": "skipped manifest entry: id contains a path separator",
        "missing": "HTTP 404 Not Found",
        "html": "server sent an HTML page, not a zip archive",
        "corrupt": causes["corrupt"],
        "symlink": "member 'evil.widget/link' is a symlink",
        "absolute": "member '/etc/cron.d/evil' has an absolute path",
        "dotdot": "member 'w/../../evil.jsx' has a '..' path component",
        "bomb": causes["bomb"],
        "slow": "timed out after 2 attempts",
        "reset": "connection reset after 2 attempts",
        "down": "HTTP 503 Service Unavailable after 2 attempts",
        "empty": "empty file, not a zip archive",
    }
    assert causes["corrupt"].startswith("corrupt zip archive")
    assert "compression ratio over 50" in causes["bomb"]
    assert result.ok == 3
    assert server.count("/flaky.zip") == 2  # the 500 was retried, then it worked
    assert server.count("/missing.zip") == 1  # a 404 is not retried
    assert visible(workspace.downloads_dir) == ["flaky", "good1", "good2"]
    failed_rows = {
        r["item_id"]: r for r in rows(workspace, "select * from downloads where status = 'failed'")
    }
    assert set(failed_rows) == set(bad)
    assert failed_rows["missing"]["error"] == "HTTP 404 Not Found"
    assert failed_rows["slow"]["attempts"] == 2
    logged = {
        r["item_id"] for r in rows(workspace, "select item_id from job_logs where level = 'error'")
    }
    assert set(bad) <= logged
    assert not (tmp_path / "evil.jsx").exists() and not Path("/etc/cron.d/evil").exists()


def test_screenshot_failure_is_only_a_warning(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    configure(workspace)
    [entry] = publish(server, ["pic"])
    entry["screenshotUrl"] = server.url("/nope.png")
    result = ingest(workspace, write_manifest(tmp_path / "m.json", [entry]))
    assert result.ok == 1 and result.failed == []
    warnings = rows(workspace, "select message from job_logs where level = 'warning'")
    assert [w["message"] for w in warnings] == ["pic: screenshot not saved: HTTP 404 Not Found"]
    assert rows(workspace, "select screenshot_path from downloads")[0]["screenshot_path"] is None


def _png_bytes(size: tuple[int, int] = (40, 30)) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", size, (30, 120, 200)).save(buf, "PNG")
    return buf.getvalue()


def test_archive_screenshot_when_the_url_fails_or_is_missing(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    """A widget that ships its own screenshot.png gets it recorded when the manifest's URL
    does not resolve (no retries: one attempt, at once) or there is no URL at all."""
    configure(workspace, retries=3, backoff_seconds=0.5)
    entries = []
    for item_id in ("dead", "none"):
        archive = make_zip(
            {
                f"{item_id}.widget/index.jsx": "export const command = 'date'\n",
                f"{item_id}.widget/screenshot.png": _png_bytes(),
                f"{item_id}.widget/icon.png": _png_bytes((8, 8)),
            }
        )
        entries.append({"id": item_id, "downloadUrl": server.route(f"/{item_id}.zip", archive)})
    entries[0]["screenshotUrl"] = "http://shots.graftwork-test.invalid/dead.png"
    result = ingest(workspace, write_manifest(tmp_path / "m.json", entries))
    assert result.ok == 2 and result.failed == []
    paths = {
        r["item_id"]: r["screenshot_path"]
        for r in rows(workspace, "select item_id, screenshot_path from downloads")
    }
    assert paths == {
        "dead": "downloads/dead/dead.widget/screenshot.png",
        "none": "downloads/none/none.widget/screenshot.png",
    }
    warnings = [
        r["message"]
        for r in rows(workspace, "select message from job_logs where level = 'warning'")
    ]
    # The cause has no "after N attempts": one attempt, not retried (a retried failure says
    # how many attempts it took), so no backoff was waited either.
    assert warnings == [
        "dead: screenshot not saved: cannot resolve host shots.graftwork-test.invalid; "
        "using the archive's own screenshot.png"
    ]


def test_no_screenshots_skips_the_request(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    configure(workspace)
    manifest = write_manifest(tmp_path / "m.json", publish(server, ["pic"], screenshots=True))
    ingest(workspace, manifest, screenshots=False)
    assert server.count("/pic.png") == 0 and server.count("/pic.zip") == 1


# ---- manifest sources ---------------------------------------------------------------------


def test_manifest_over_http_and_file_urls(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    configure(workspace)
    zips = tmp_path / "gallery"
    zips.mkdir()
    (zips / "rel.zip").write_bytes(widget_zip("rel"))
    (zips / "abs.zip").write_bytes(widget_zip("abs"))
    (zips / "uri.zip").write_bytes(widget_zip("uri"))
    local_entries = [
        {"id": "rel", "downloadUrl": "rel.zip"},  # relative to the manifest's folder
        {"id": "abs", "downloadUrl": str(zips / "abs.zip")},
        {"id": "uri", "downloadUrl": (zips / "uri.zip").as_uri()},
    ]
    manifest = write_manifest(zips / "manifest.json", local_entries)
    assert ingest(workspace, Path(manifest).as_uri()).ok == 3
    assert visible(workspace.downloads_dir) == ["abs", "rel", "uri"]

    served = publish(server, ["remote"])
    url = server.route("/manifest.json", json.dumps(served).encode())  # a bare list
    result = ingest(workspace, url)
    assert result.ok == 1 and (workspace.downloads_dir / "remote" / "remote.widget").is_dir()


def test_called_from_a_worker_thread(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    # The TUI runs stages in worker threads: the stage must open its own loop and catalog.
    configure(workspace)
    manifest = write_manifest(tmp_path / "m.json", publish(server, ["t1", "t2"]))
    out: dict[str, object] = {}

    def work() -> None:
        try:
            out["result"] = ingest(workspace, manifest)
        except BaseException as exc:
            out["error"] = exc

    thread = threading.Thread(target=work)
    thread.start()
    thread.join(30)
    assert "error" not in out and out["result"].ok == 2  # type: ignore[union-attr]


REAL_MANIFEST = Path("/work/shared/uebersicht/widgets.json")


@pytest.mark.slow
@pytest.mark.skipif(not REAL_MANIFEST.is_file(), reason="shared gallery manifest not present")
def test_real_gallery_manifest_served_locally(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    # The 414 real entries (ids, names, every field) with their downloads served from 127.0.0.1.
    real = json.loads(REAL_MANIFEST.read_text(encoding="utf-8"))["widgets"]
    for n, entry in enumerate(real):
        path = f"/w/{n}.zip"
        entry["downloadUrl"] = server.route(path, widget_zip(f"w{n}"))
        entry["screenshotUrl"] = server.route(f"/s/{n}.png", b"\x89PNG")
    configure(workspace)
    result = ingest(workspace, write_manifest(tmp_path / "real.json", real))
    assert (result.ok, result.failed) == (414, [])
    assert visible(workspace.downloads_dir) == sorted(e["id"] for e in real)
    stored = {
        r["id"]: r for r in rows(workspace, "select id, name, manifest, manifest_order from items")
    }
    assert len(stored) == 414
    first = real[0]
    assert stored[first["id"]]["name"] == first["name"]
    assert json.loads(stored[first["id"]]["manifest"]) == first
    assert stored[real[-1]["id"]]["manifest_order"] == 413


# ---- the command line -----------------------------------------------------------------------


def test_cli_exit_codes(workspace: Workspace, server: LocalServer, tmp_path: Path) -> None:
    configure(workspace)
    entries = publish(server, ["one", "two"])
    manifest = write_manifest(tmp_path / "m.json", entries)
    ok = graftwork(workspace, "--manifest", manifest, "--concurrency", "2")
    assert ok.returncode == 0, ok.stderr
    assert "ingest: 2 ok (2 downloaded, 0 unchanged), 0 failed" in ok.stdout

    broken = write_manifest(
        tmp_path / "broken.json", [*entries, {"id": "gone", "downloadUrl": server.url("/gone.zip")}]
    )
    some_failed = graftwork(workspace, "--manifest", broken)
    assert some_failed.returncode == 1
    assert "gone: HTTP 404 Not Found" in some_failed.stderr
    assert "2 ok (0 downloaded, 2 unchanged), 1 failed" in some_failed.stdout

    ids = tmp_path / "ids.txt"
    ids.write_text("# wanted\none\n\nnobody\n", encoding="utf-8")
    filtered = graftwork(workspace, "--manifest", broken, "--widget-file", str(ids))
    assert filtered.returncode == 1 and "nobody: not in the manifest" in filtered.stderr
    assert "gone" not in filtered.stderr


def run_main(ws: Workspace, *args: str) -> int:
    from graftwork.cli import main

    with pytest.raises(SystemExit) as done:
        main(["-w", str(ws.root), "ingest", *args])
    return int(done.value.code or 0)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "manifest is not valid JSON"),
        ('{"items": []}', "manifest object has no 'widgets' list"),
        ('"widgets"', "manifest must be a list of widgets"),
        (None, "cannot read the manifest: file not found"),
    ],
)
def test_cli_manifest_errors_exit_2(
    workspace: Workspace,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    content: str | None,
    message: str,
) -> None:
    path = tmp_path / "manifest.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    assert run_main(workspace, "--manifest", str(path)) == 2
    err = capsys.readouterr().err
    assert message in err and str(path) in err and len(err.strip().splitlines()) == 1


def test_cli_usage_errors_exit_2(workspace: Workspace, tmp_path: Path) -> None:
    manifest = write_manifest(tmp_path / "m.json", [])
    assert run_main(workspace, "--manifest", manifest, "--concurrency", "0") == 2
    assert run_main(workspace, "--manifest", manifest, "--widgets", " , ") == 2
    assert (
        run_main(workspace, "--manifest", manifest, "--widget-file", str(tmp_path / "none.txt"))
        == 2
    )
    (workspace.config_path).write_text("project:\n  ingest: {concurency: 3}\n", encoding="utf-8")
    assert run_main(workspace, "--manifest", manifest) == 2


def test_cli_widgets_filter_reports_unknown_ids(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    configure(workspace)
    manifest = write_manifest(tmp_path / "m.json", publish(server, ["solo", "other"]))
    assert run_main(workspace, "--manifest", manifest, "--widgets", "solo,ghost") == 1
    assert server.count("/other.zip") == 0
    assert visible(workspace.downloads_dir) == ["solo"]


# ---- crash safety ---------------------------------------------------------------------------


def test_sigkill_mid_run_leaves_nothing_half_written(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    configure(workspace)
    ids = [f"w{i:02d}" for i in range(12)]
    contents = {}
    # The first three archives are served at once, the others are held until after the kill:
    # it lands mid-run (three widgets in place, the next ones mid-download) on any machine.
    gate = threading.Event()
    for n, item_id in enumerate(ids):
        files = {
            f"{item_id}.widget/index.jsx": f"// {item_id}\n",
            f"{item_id}.widget/data.bin": os.urandom(300_000),
        }
        contents[item_id] = files
        server.route(f"/{item_id}.zip", Reply(body=make_zip(files), gate=gate if n >= 3 else None))
    manifest = write_manifest(
        tmp_path / "m.json", [{"id": i, "downloadUrl": server.url(f"/{i}.zip")} for i in ids]
    )
    proc = subprocess.Popen(
        [
            str(GRAFTWORK),
            "-w",
            str(workspace.root),
            "ingest",
            "--manifest",
            manifest,
            "--concurrency",
            "2",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while (
        time.monotonic() < deadline
        and proc.poll() is None
        and len(visible(workspace.downloads_dir)) < 3
    ):
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(10)
    gate.set()

    done_before = visible(workspace.downloads_dir)
    assert 3 <= len(done_before) < len(ids), "the kill should land mid-run"
    for item_id in done_before:  # whatever is visible is complete, byte for byte
        for name, data in contents[item_id].items():
            expected = data.encode() if isinstance(data, str) else data
            assert (workspace.downloads_dir / item_id / name).read_bytes() == expected
    assert set(visible(workspace.downloads_dir)) <= set(ids)  # no temp folder looks like a widget

    ok_before = {
        r["item_id"] for r in rows(workspace, "select item_id from downloads where status = 'ok'")
    }
    assert ok_before and ok_before <= set(done_before)  # rows are written only after the rename

    server.clear_log()
    rerun = graftwork(workspace, "--manifest", manifest, "--concurrency", "4")
    assert rerun.returncode == 0, rerun.stderr
    assert visible(workspace.downloads_dir) == ids
    recorded = {
        r["item_id"] for r in rows(workspace, "select item_id from downloads where status = 'ok'")
    }
    assert recorded == set(ids)
    requested = {p for _, p in server.requests}
    assert not {f"/{i}.zip" for i in ok_before} & requested  # finished work is not redone
    assert not (workspace.downloads_dir / ".ingest-tmp").exists()


def test_cancel_stops_new_downloads_and_keeps_finished_ones(
    workspace: Workspace, server: LocalServer, tmp_path: Path
) -> None:
    from graftwork.core.base.jobs import Cancelled

    configure(workspace)
    ids = [f"c{i}" for i in range(8)]
    for item_id in ids:
        server.route(f"/{item_id}.zip", Reply(body=widget_zip(item_id), delay=0.05))
    manifest = write_manifest(
        tmp_path / "m.json", [{"id": i, "downloadUrl": server.url(f"/{i}.zip")} for i in ids]
    )
    cancel = threading.Event()

    def stop_after_two(event) -> None:
        if event.type == "progress" and event.done >= 2:
            cancel.set()

    with workspace.catalog() as db, pytest.raises(Cancelled):
        run_job(
            db,
            "ingest",
            lambda job: wiring.ingest(workspace, manifest, concurrency=1, job=job),
            listeners=[stop_after_two],
            cancel_event=cancel,
        )
    assert server.count() == 2
    assert visible(workspace.downloads_dir) == ["c0", "c1"]
    assert rows(workspace, "select state from jobs")[0]["state"] == "cancelled"
    assert not (workspace.downloads_dir / ".ingest-tmp").exists()
