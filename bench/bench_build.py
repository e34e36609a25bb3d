"""Build benchmark: `build` of 2,000 generated examples (~3,000 tokens each) in a temp
workspace: read code, count (through the token cache), curate, split, validate every line,
write and rename the set into place. Aim: under 3 s.

Run: .venv/bin/python bench/bench_build.py [--n 2000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_budget import make_workspace

from graftwork.adapters.tokenizers import TiktokenBackend
from graftwork.core.base.jobs import Job
from graftwork.core.budget.budget import run_budget
from graftwork.core.budget.tokens import CachingCounter
from graftwork.core.dataset.build import build


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        ws = make_workspace(Path(tmp) / "ws", args.n)

        t = time.perf_counter()
        res = build(
            ws,
            "cold",
            counter=CachingCounter(TiktokenBackend(), ws.db_path),
            job=Job(None, "build"),
        )
        cold = time.perf_counter() - t
        print(
            f"build of {res.ok} examples, nothing counted before (counts every line): {cold:.2f} s"
        )

        run_budget(ws, CachingCounter(TiktokenBackend(), ws.db_path), job=Job(None, "budget"))
        t, c = time.perf_counter(), time.process_time()
        res = build(
            ws,
            "warm",
            counter=CachingCounter(TiktokenBackend(), ws.db_path),
            job=Job(None, "build"),
        )
        warm, warm_cpu = time.perf_counter() - t, time.process_time() - c
        print(
            f"build of {res.ok} examples after budget (new process, SQLite token cache): "
            f"{warm:.2f} s wall, {warm_cpu:.2f} s CPU"
        )

        t = time.perf_counter()
        build(
            ws,
            "warm",
            counter=CachingCounter(TiktokenBackend(), ws.db_path),
            force=True,
            job=Job(None, "build"),
        )
        print(
            f"rebuild with --force (replace the set): {time.perf_counter() - t:.2f} s; "
            f"splits {res.summary['counts']}"
        )


if __name__ == "__main__":
    main()
