"""Teacher throughput: N prompts against the local fake server (fixed latency per call), the
whole `teach prompts` stage (real openai client, SQLite call log, tasks, revisions) at
concurrency 8 against sequential, in the same run. Aim: at least 6x.

The server runs in its own process, like a real teacher, so it does not compete with the
client for this interpreter's GIL.

    .venv/bin/python bench/bench_teacher.py [--n 200] [--latency 0.2] [--concurrency 8] [--check]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))


from support.fake_openai_server import server_process  # noqa: E402

from graftwork import wiring  # noqa: E402
from graftwork.core.base.catalog.db import now  # noqa: E402
from graftwork.core.base.jobs import Job  # noqa: E402
from graftwork.core.base.workspace import Workspace  # noqa: E402

WIDGET = """export const command = "df -h / | tail -1";
export const refreshFrequency = {ms};
export const render = ({{ output }}) => <div className="disk">{name}: {{output}}</div>;
"""


def make_workspace(root: Path, n: int) -> Workspace:
    ws = Workspace.init(root)
    db = ws.catalog()
    stamp = now()
    for i in range(n):
        item = f"bench-{i:04d}"
        folder = f"{item}/{item}.widget"
        (ws.downloads_dir / folder).mkdir(parents=True)
        (ws.downloads_dir / folder / "index.jsx").write_text(WIDGET.format(ms=1000 + i, name=item))
        db["items"].insert(
            {
                "id": item,
                "source": "uebersicht",
                "name": item,
                "author": "bench",
                "description": f"Disk usage panel number {i}",
                "manifest": "{}",
                "manifest_order": i,
                "added_at": stamp,
                "updated_at": stamp,
            }
        )
        db["analysis"].insert(
            {
                "item_id": item,
                "kind": "jsx",
                "is_jsx": 1,
                "is_coffee": 0,
                "has_js": 0,
                "folder": folder,
                "files": "[]",
                "file_count": 1,
                "analyzed_at": stamp,
            }
        )
    db.close()
    return ws


def timed_run(ws: Workspace, base_url: str, concurrency: int) -> tuple[float, dict]:
    db = ws.catalog()
    job = Job(db, "teach")
    overrides = {
        "base_url": base_url,
        "api_key_env": "BENCH_TEACHER_KEY",
        "concurrency": concurrency,
    }
    started = time.perf_counter()
    result = wiring.teach_prompts(ws, overrides=overrides, job=job)
    elapsed = time.perf_counter() - started
    job.finish(summary=result.summary)
    db.close()
    assert result.ok == result.summary["items"] and not result.failed, result.failed
    return elapsed, result.summary


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--check", action="store_true", help="exit 1 below the 6x aim")
    args = parser.parse_args()
    os.environ["BENCH_TEACHER_KEY"] = "bench-key"
    # One-time costs (importing openai, loading the tokenizer) stay out of both timings.
    import openai  # noqa: F401

    wiring.teacher_counter()
    with tempfile.TemporaryDirectory() as tmp, server_process(args.latency) as base_url:
        # Separate workspaces so neither run can reuse the other's finished calls.
        seq_ws = make_workspace(Path(tmp) / "sequential", args.n)
        par_ws = make_workspace(Path(tmp) / "concurrent", args.n)
        seq, seq_summary = timed_run(seq_ws, base_url, 1)
        par, par_summary = timed_run(par_ws, base_url, args.concurrency)
    ideal = args.n * args.latency
    speedup = seq / par
    print(
        f"teacher bench: {args.n} prompts, {args.latency * 1000:.0f} ms server latency per call "
        f"(server in its own process), {os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}"
    )
    print(
        f"  sequential (concurrency 1): {seq:7.2f} s  ({seq_summary['calls_sent']} calls, "
        f"overhead {(seq - ideal) / args.n * 1000:.1f} ms/call over the {ideal:.0f} s of latency)"
    )
    print(
        f"  concurrency {args.concurrency}:            {par:7.2f} s  ({par_summary['calls_sent']} calls, "
        f"ideal {ideal / args.concurrency:.2f} s)"
    )
    print(f"  speedup: {speedup:.2f}x (aim >= 6x: {'met' if speedup >= 6 else 'NOT met'})")
    return 1 if args.check and speedup < 6 else 0


if __name__ == "__main__":
    sys.exit(main())
