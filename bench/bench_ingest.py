"""Ingest benchmark: 400 small widget zips from a local threaded server that waits 50 ms per
request, ingested at concurrency 8 and one by one (concurrency 1) in the same run.

Prints both times and their ratio (aim: at least 5x), plus the time of a re-run that skips
every unchanged archive. Writes nothing outside a temp folder.

    .venv/bin/python bench/bench_ingest.py [--widgets 400] [--delay 0.05]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
import tempfile
import time
import urllib.request
from http.server import BaseHTTPRequestHandler
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))  # the shared 127.0.0.1 server and zip builders

from support.http_server import LocalServer, Reply  # noqa: E402
from support.zips import widget_zip  # noqa: E402

from graftwork import wiring  # noqa: E402
from graftwork.core.base.jobs import StageResult, run_job  # noqa: E402
from graftwork.core.base.workspace import Workspace  # noqa: E402


def timed_ingest(root: Path, manifest: str, concurrency: int) -> tuple[float, StageResult]:
    ws = Workspace.init(root)
    with ws.catalog() as db:
        start = time.perf_counter()
        result = run_job(
            db,
            "ingest",
            lambda job: wiring.ingest(
                ws, manifest, concurrency=concurrency, screenshots=False, job=job
            ),
        )
        return time.perf_counter() - start, result


def check(result: StageResult, expected: int) -> None:
    if result.failed or result.ok != expected:
        raise SystemExit(f"benchmark run failed: {result.ok} ok, failures {result.failed[:3]}")


def _one_widget(tmp_path: Path, entry: dict) -> Path:
    path = tmp_path / "warm-up.json"
    path.write_text(json.dumps([entry]), encoding="utf-8")
    return path


def _serve(n: int, delay: float, conn: Connection) -> None:
    """The server process: n widget zips plus /_count (zip requests answered so far)."""
    with LocalServer() as server:
        for i in range(n):
            item_id = f"widget-{i:04d}"
            server.route(
                f"/{item_id}.zip", Reply(body=widget_zip(item_id, "x" * 2000), delay=delay)
            )

        def count(handler: BaseHTTPRequestHandler) -> None:
            body = str(sum(1 for _, p in server.requests if p.endswith(".zip"))).encode()
            handler.send_response(200)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)

        server.route("/_count", Reply(action=count))
        conn.send(server.url(""))
        conn.recv()  # serve until the benchmark says stop


def zip_requests(base: str) -> int:
    with urllib.request.urlopen(f"{base}/_count") as answer:
        return int(answer.read())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--widgets", type=int, default=400)
    parser.add_argument("--delay", type=float, default=0.05, help="server wait per request (s)")
    args = parser.parse_args()
    n = args.widgets

    # The server runs in its own process, as a real one would: it must not compete with the
    # client for this interpreter's GIL.
    parent, child = multiprocessing.get_context("spawn").Pipe()
    proc = multiprocessing.get_context("spawn").Process(
        target=_serve, args=(n, args.delay, child), daemon=True
    )
    proc.start()
    try:
        base = parent.recv()
        with tempfile.TemporaryDirectory(prefix="graftwork-bench-ingest-") as tmp:
            tmp_path = Path(tmp)
            entries = [
                {
                    "id": f"widget-{i:04d}",
                    "name": f"widget-{i:04d}",
                    "downloadUrl": f"{base}/widget-{i:04d}.zip",
                }
                for i in range(n)
            ]
            manifest = tmp_path / "manifest.json"
            manifest.write_text(json.dumps({"widgets": entries}), encoding="utf-8")

            # Warm-up (imports, first catalog): both timed runs then start from the same state.
            timed_ingest(tmp_path / "ws-warm", str(_one_widget(tmp_path, entries[0])), 1)

            before = zip_requests(base)
            parallel, result = timed_ingest(tmp_path / "ws-c8", str(manifest), 8)
            check(result, n)
            requests_c8 = zip_requests(base) - before
            before = zip_requests(base)
            rerun, result = timed_ingest(tmp_path / "ws-c8", str(manifest), 8)
            check(result, n)
            rerun_requests = zip_requests(base) - before
            serial, result = timed_ingest(tmp_path / "ws-c1", str(manifest), 1)
            check(result, n)
    finally:
        parent.send("stop")
        proc.join(10)

    print(f"ingest of {n} widgets, server waits {args.delay * 1000:.0f} ms per request")
    print(
        f"  concurrency 8 : {parallel:6.2f} s  ({n / parallel:6.1f} widgets/s, {requests_c8} requests)"
    )
    print(f"  concurrency 1 : {serial:6.2f} s  ({n / serial:6.1f} widgets/s)")
    print(f"  speed-up      : {serial / parallel:6.2f}x  (aim: at least 5x)")
    print(f"  re-run, all unchanged: {rerun:6.2f} s, {rerun_requests} requests")


if __name__ == "__main__":
    main()
