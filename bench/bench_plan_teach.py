"""Plan teach benchmark: drafts -> critiques -> refine for 200 planned prompts against the
fake OpenAI server on 127.0.0.1 with 200 ms latency a call.

Prints the chain's time at concurrency 8, the sequential time (concurrency 1, measured on
20 prompts and scaled to 200), their ratio (target <= 1/6), and a kill test: `teach drafts`
killed with SIGKILL mid-run, then `--resume`; the calls sent twice must be <= concurrency.

Run: .venv/bin/python bench/bench_plan_teach.py [--n 200] [--latency 0.2]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from support.fake_openai_server import server_process  # noqa: E402

from graftwork import wiring  # noqa: E402
from graftwork.core.base.jobs import run_job  # noqa: E402
from graftwork.core.base.workspace import Workspace  # noqa: E402
from graftwork.core.plan.planner import run_plan  # noqa: E402

SPEC = """\
dataset: {{name: bench}}
variables: {{n: {{values: [{values}]}}}}
categories:
  c: {{count: {n}, templates: ["Question number {{{{ n }}}}?"]}}
contract:
  format: json
  schema: {{type: object, required: [answer], properties: {{answer: {{type: string}}}}}}
gating: {{min_chars: 5}}
"""


def make_ws(root: Path, n: int) -> Workspace:
    ws = Workspace.init(root)
    (root / "spec.yaml").write_text(
        SPEC.format(n=n, values=", ".join(map(str, range(n)))), encoding="utf-8"
    )
    # The fake server needs no key; a local teacher says so with api_key_env: null.
    (root / "graftwork.yaml").write_text("teacher: {api_key_env: null}\n", encoding="utf-8")
    with ws.catalog() as db:
        run_job(db, "plan", lambda job: run_plan(ws, job=job))
    return ws


def chain(ws: Workspace, base_url: str, concurrency: int) -> tuple[float, int]:
    flags = {"base_url": base_url, "concurrency": concurrency}
    start = time.perf_counter()
    calls = 0
    for stage in ("drafts", "critiques", "refine"):
        with ws.catalog() as db:
            result = run_job(
                db, stage, lambda job, s=stage: wiring.plan_teach(ws, s, overrides=flags, job=job)
            )
        assert not result.failed, result.failed
        calls += result.summary["calls_sent"]
    return time.perf_counter() - start, calls


def _count(db_path: Path, sql: str) -> int:
    with contextlib.closing(sqlite3.connect(db_path, timeout=10)) as conn:
        try:
            return conn.execute(sql).fetchone()[0] or 0
        except sqlite3.OperationalError:
            return 0


def kill_and_resume(root: Path, base_url: str, n: int, concurrency: int) -> tuple[int, int]:
    ws = make_ws(root, n)
    cmd = [
        sys.executable, "-m", "graftwork", "-w", str(ws.root), "teach", "drafts",
        "--base-url", base_url, "--concurrency", str(concurrency), "-y",
    ]  # fmt: skip
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    ok = "SELECT COUNT(*) FROM teacher_calls WHERE status = 'ok'"
    deadline = time.monotonic() + 120
    while _count(ws.db_path, ok) < n // 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    done = _count(ws.db_path, ok)
    subprocess.run(
        [*cmd, "--resume"], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    repeated = _count(
        ws.db_path,
        "SELECT SUM(c - 1) FROM (SELECT COUNT(*) AS c FROM teacher_calls GROUP BY request_hash HAVING c > 1)",
    )
    return done, repeated


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--latency", type=float, default=0.2)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    # Import the openai client before timing: a cold import is not part of either run.
    import openai  # noqa: F401

    import graftwork.adapters.teacher_openai  # noqa: F401

    with server_process(args.latency) as url, tempfile.TemporaryDirectory() as tmp:
        parallel, calls = chain(make_ws(Path(tmp) / "par", args.n), url, args.concurrency)
        seq_n = max(1, args.n // 10)
        seq, _ = chain(make_ws(Path(tmp) / "seq", seq_n), url, 1)
        seq *= args.n / seq_n
        ratio = parallel / seq
        print(
            f"{args.n} prompts, {calls} calls at {args.latency * 1000:.0f} ms: concurrency "
            f"{args.concurrency} {parallel:.1f} s; sequential {seq:.1f} s (measured on {seq_n}, "
            f"scaled); ratio {ratio:.3f} (target <= {1 / 6:.3f}: {'ok' if ratio <= 1 / 6 else 'MISSED'})"
        )
        done, repeated = kill_and_resume(Path(tmp) / "kill", url, args.n, args.concurrency)
        print(
            f"kill -9 after {done} finished calls, then --resume: {repeated} call(s) sent twice "
            f"(target <= {args.concurrency}: {'ok' if repeated <= args.concurrency else 'MISSED'})"
        )


if __name__ == "__main__":
    main()
