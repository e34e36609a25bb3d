"""Screenshot URLs that do not resolve must not slow ingest down (issue 10): 50 widget zips
(each with its own screenshot.png) from a local server in its own process, ingested with the
default retry settings four ways: no screenshot URLs; every URL on its own `.invalid` host
(RFC 6761: never resolves; the fetcher answers that without a DNS query); all URLs on one
`.invalid` host; every URL on its own `.example` host (RFC 2606: no such hosts, but a real
DNS lookup each, so this one also measures the resolver).

Prints the times and the extra time over "no URLs" (aim: < 3 s), and checks that every widget
got the archive's own screenshot instead. Writes nothing outside a temp folder.

    .venv/bin/python bench/bench_ingest_screenshots.py [--widgets 50]
"""

from __future__ import annotations

import argparse
import io
import json
import multiprocessing
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the shared 127.0.0.1 server and zip builders

from support.http_server import LocalServer  # noqa: E402
from support.zips import make_zip  # noqa: E402

from graftwork import wiring  # noqa: E402
from graftwork.core.base.jobs import run_job  # noqa: E402
from graftwork.core.base.workspace import Workspace  # noqa: E402


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (64, 40), (40, 90, 200)).save(buf, "PNG")
    return buf.getvalue()


def _serve(n: int, conn: Connection) -> None:
    shot = _png()
    with LocalServer() as server:
        for i in range(n):
            item_id = f"widget-{i:03d}"
            archive = make_zip(
                {
                    f"{item_id}.widget/index.jsx": f"// {item_id}\nexport const command = 'date'\n",
                    f"{item_id}.widget/screenshot.png": shot,
                }
            )
            server.route(f"/{item_id}.zip", archive)
        conn.send(server.url(""))
        conn.recv()


def timed(root: Path, manifest: Path) -> tuple[float, int, int]:
    """(seconds, widgets ok, widgets with the archive's own screenshot recorded)."""
    ws = Workspace.init(root)
    with ws.catalog() as db:
        start = time.perf_counter()
        result = run_job(db, "ingest", lambda job: wiring.ingest(ws, str(manifest), job=job))
        took = time.perf_counter() - start
        own = db.execute(
            "select count(*) from downloads where screenshot_path like 'downloads/widget-%'"
        ).fetchone()[0]
    return took, result.ok, own


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widgets", type=int, default=50)
    n = parser.parse_args().widgets
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(n, child), daemon=True)
    proc.start()
    try:
        base = parent.recv()
        with tempfile.TemporaryDirectory(prefix="graftwork-bench-shots-") as tmp:
            tmp_path = Path(tmp)

            def manifest(name: str, url: object) -> Path:
                entries = []
                for i in range(n):
                    entry = {"id": f"widget-{i:03d}", "downloadUrl": f"{base}/widget-{i:03d}.zip"}
                    if url is not None:
                        entry["screenshotUrl"] = url(i)  # type: ignore[operator]
                    entries.append(entry)
                path = tmp_path / f"{name}.json"
                path.write_text(json.dumps({"widgets": entries}), encoding="utf-8")
                return path

            plain = manifest("plain", None)
            hosts = manifest("hosts", lambda i: f"https://shots-{i}.graftwork-bench.invalid/s.png")
            one = manifest("one", lambda i: f"https://shots.graftwork-bench.invalid/{i}.png")
            looked = manifest("dns", lambda i: f"https://shots-{i}.graftwork-bench.example/s.png")
            timed(tmp_path / "warm", plain)  # imports and the first catalog, not measured
            results = {
                "no screenshot URLs": timed(tmp_path / "plain", plain),
                f"{n} .invalid hosts": timed(tmp_path / "hosts", hosts),
                "one .invalid host": timed(tmp_path / "one", one),
                f"{n} .example hosts (DNS)": timed(tmp_path / "dns", looked),
            }
    finally:
        parent.send("stop")
        proc.join(10)

    base_time = results["no screenshot URLs"][0]
    print(f"ingest of {n} widgets, each archive with its own screenshot.png (default retries)")
    for label, (took, ok, own) in results.items():
        extra = "" if took == base_time else f"   +{took - base_time:5.2f} s (aim: < 3 s)"
        print(f"  {label:24}: {took:6.2f} s  {ok} ok, {own} with the archive's screenshot{extra}")
        if ok != n or own != n:
            raise SystemExit(f"{label}: expected {n} widgets with their own screenshot")


if __name__ == "__main__":
    main()
