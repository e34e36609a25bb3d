"""readmes recipe benchmarks (issue 11), printed:

  collect-local  30 local git repositories, 2,000 files in all            aim < 10 s
  collect-api    repositories over a GitHub API stand-in answering after 50 ms,
                 concurrency 8 against one by one                           aim >= 5x
  chunk          10 MB of README Markdown (2,000 READMEs of ~5 KB)          aim >= 5 MB/s
  instruct       300 chunks against a teacher answering after 200 ms: batches of 3 at
                 concurrency 8 against one chunk per call, one call at a time
                                                                            aim <= 1/6 of the time

Servers run in their own processes (as real ones would), so they do not compete with the
client for this interpreter's GIL. Writes nothing outside a temp folder.

    .venv/bin/python bench/bench_readmes.py [collect-local collect-api chunk instruct]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import subprocess
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

from support.git_repos import make_repo, write_files  # noqa: E402
from support.github_api import FakeRepo, publish_repo  # noqa: E402
from support.http_server import LocalServer  # noqa: E402

from graftwork import wiring  # noqa: E402
from graftwork.core.base.jobs import StageResult, run_job  # noqa: E402
from graftwork.core.base.workspace import Workspace  # noqa: E402
from graftwork.core.sources.readmes.chunking import chunk_readme  # noqa: E402
from graftwork.core.sources.readmes.chunks import chunk_stage  # noqa: E402

WORDS = [
    "the",
    "tool",
    "reads",
    "a",
    "folder",
    "of",
    "files",
    "and",
    "writes",
    "a",
    "short",
    "report",
    "about",
    "what",
    "it",
    "finds",
    "there",
    "install",
    "it",
    "with",
    "pip",
    "then",
    "run",
    "it",
    "from",
    "the",
    "command",
    "line",
    "with",
    "a",
    "path",
    "and",
    "options",
]


def prose(rng: random.Random, sentences: int) -> str:
    return " ".join(
        " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 16))).capitalize() + "."
        for _ in range(sentences)
    )


def readme(rng: random.Random, size: int) -> str:
    parts = [f"# Project {rng.randint(1, 9999)}\n\n[![CI](https://ci/x.svg)](https://ci)\n"]
    n = 0
    while sum(map(len, parts)) < size:
        n += 1
        parts.append(f"## Section {n}\n\n{prose(rng, 6)}\n")
        if n % 3 == 0:
            parts.append("```bash\npip install project\nproject --report out.md .\n```\n")
        if n % 4 == 0:
            parts.append("- [Docs](https://d)\n- [Issues](https://i)\n")
    return "\n".join(parts)


def ws_at(path: Path, **readmes: dict) -> Workspace:
    ws = Workspace.init(path)
    if readmes:
        import yaml

        ws.config_path.write_text(yaml.safe_dump({"readmes": readmes}), encoding="utf-8")
    return ws


def collect(ws: Workspace, *sources: str, **kw) -> tuple[float, StageResult]:
    with ws.catalog() as db:
        started = time.perf_counter()
        result = run_job(
            db, "collect", lambda job: wiring.collect(ws, sources=sources, job=job, **kw)
        )
        elapsed = time.perf_counter() - started
    if result.failed:
        raise SystemExit(f"collect failed: {result.failed[:3]}")
    return elapsed, result


# ---- collect-local -----------------------------------------------------------------------


def bench_collect_local(tmp: Path) -> bool:
    rng = random.Random(1)
    sources = []
    for r in range(30):
        files = {"README.md": readme(rng, 3000), "pyproject.toml": '[project]\nname = "p"\n'}
        count = 2000 // 30 + (1 if r < 2000 % 30 else 0)
        for f in range(count - len(files)):
            files[f"src/pkg{f % 5}/mod{f}.py"] = f"X = {f}\n"
        sources.append(str(make_repo(tmp / "repos" / f"repo{r:02d}", files)))
    wiring.teacher_counter()  # the tokenizer loads once, outside the timing
    elapsed, result = collect(ws_at(tmp / "ws-local"), *sources)
    files = sum(1 for _ in (tmp / "repos").rglob("*") if _.is_file() and ".git" not in _.parts)
    ok = elapsed < 10
    print(
        f"collect-local: {result.ok} git repositories, {files} files in {elapsed:.2f} s "
        f"(aim < 10 s: {'met' if ok else 'NOT met'})"
    )
    return ok


# ---- collect-api ---------------------------------------------------------------------------


def _serve_github(n: int, delay: float, conn: Connection) -> None:
    rng = random.Random(2)
    with LocalServer() as server:
        for i in range(n):
            files = {
                "README.md": readme(rng, 3000),
                "pyproject.toml": '[project]\nname = "p"\n[project.scripts]\np = "p:main"\n',
                "src/p/__init__.py": "def main():\n    pass\n",
            }
            publish_repo(server, FakeRepo("bench", f"r{i:03d}", files), delay=delay)
        conn.send(server.url(""))
        conn.recv()


def bench_collect_api(tmp: Path, n: int = 64, delay: float = 0.05) -> bool:
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve_github, args=(n, delay, child), daemon=True)
    proc.start()
    try:
        api = parent.recv()
        urls = [f"https://github.com/bench/r{i:03d}" for i in range(n)]
        settings = {"github": {"api_url": api, "token_env": None}}
        seq, res = collect(ws_at(tmp / "api-1", **settings), *urls, api=True, concurrency=1)
        cpu = time.process_time()
        par, _ = collect(ws_at(tmp / "api-8", **settings), *urls, api=True, concurrency=8)
        cpu = time.process_time() - cpu
        again, res2 = collect(ws_at(tmp / "api-8", **settings), *urls, api=True, concurrency=8)
    finally:
        parent.send("stop")
        proc.join(timeout=10)
    ratio = seq / par
    ok = ratio >= 5
    print(
        f"collect-api: {n} repositories, {res.summary['api_requests']} requests, "
        f"{delay * 1000:.0f} ms per answer: one by one {seq:.2f} s, concurrency 8 {par:.2f} s, "
        f"{ratio:.2f}x (aim >= 5x: {'met' if ok else 'NOT met'}; the concurrent run used "
        f"{cpu:.2f} s of CPU); re-collect with ETags "
        f"{again:.2f} s, {res2.summary['api_not_modified']} of {res2.summary['api_requests']} "
        "answers unchanged (304)"
    )
    return ok


# ---- chunk -------------------------------------------------------------------------------


def bench_chunk() -> bool:
    rng = random.Random(3)
    docs = [readme(rng, 5000) for _ in range(2000)]
    total = sum(len(d.encode()) for d in docs)
    chunk_readme(docs[0])  # the splitter is built once, outside the timing
    started, cpu = time.perf_counter(), time.process_time()
    chunks = dropped = 0
    for doc in docs:
        out = chunk_readme(doc)
        chunks += len(out.chunks)
        dropped += out.dropped_link_only
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    rate, cpu_rate = total / 1e6 / elapsed, total / 1e6 / max(cpu, 1e-9)
    ok = rate >= 5
    print(
        f"chunk: {total / 1e6:.1f} MB in {len(docs)} READMEs -> {chunks} chunks "
        f"({dropped} link-only dropped) in {elapsed:.2f} s = {rate:.1f} MB/s "
        f"(aim >= 5 MB/s: {'met' if ok else 'NOT met'}); CPU time {cpu:.2f} s = "
        f"{cpu_rate:.1f} MB/s of CPU (what a machine to itself would see)"
    )
    return ok


# ---- instruct ------------------------------------------------------------------------------


def chunked_workspace(path: Path, repos: Path, n_chunks: int) -> Workspace:
    ws = ws_at(path, chunk={"min_chars": 300, "max_chars": 700})
    sources = []
    per = 5
    for r in range(n_chunks // per):
        # ~440 characters a part: one part fits a chunk (max 700), two never do.
        parts = [
            f"## Part {k}\n\n" + f"Part {k} of project {r} explains one detail clearly. " * 8
            for k in range(per)
        ]
        root = repos / f"r{r:03d}"
        if not root.exists():
            write_files(root, {"README.md": "\n\n".join(parts), "main.py": "print(1)\n"})
        sources.append(str(root))
    collect(ws, *sources)
    with ws.catalog() as db:
        result = run_job(db, "chunk", lambda job: chunk_stage(ws, job=job))
    if result.summary["chunks"] != n_chunks:
        raise SystemExit(f"expected {n_chunks} chunks, got {result.summary['chunks']}")
    return ws


def fake_teacher(latency: float) -> tuple[subprocess.Popen, str]:
    script = ROOT / "tests" / "support" / "fake_openai_server.py"
    proc = subprocess.Popen(
        [sys.executable, str(script), "--port", "0", "--latency", str(latency)],
        stdout=subprocess.PIPE,
        text=True,
    )
    line = proc.stdout.readline() if proc.stdout else ""
    if " at " not in line:
        proc.terminate()
        raise SystemExit(f"fake server did not start: {line!r}")
    return proc, line.split(" at ")[1].split()[0]


def timed_instruct(ws: Workspace, base_url: str, **options) -> tuple[float, dict]:
    overrides = {"base_url": base_url, "api_key_env": "BENCH_TEACHER_KEY",
                 "concurrency": options.pop("concurrency")}  # fmt: skip
    with ws.catalog() as db:
        started = time.perf_counter()
        result = run_job(
            db, "instruct", lambda job: wiring.instruct(ws, overrides=overrides, job=job, **options)
        )
        elapsed = time.perf_counter() - started
    if result.failed:
        raise SystemExit(f"instruct failed: {result.failed[:3]}")
    return elapsed, result.summary


def bench_instruct(tmp: Path, n: int = 300, latency: float = 0.2) -> bool:
    os.environ["BENCH_TEACHER_KEY"] = "bench-key"
    import openai  # noqa: F401  (imported once, outside the timings)

    wiring.teacher_counter()
    proc, base_url = fake_teacher(latency)
    try:
        one = chunked_workspace(tmp / "instruct-1", tmp / "instruct-repos", n)
        many = chunked_workspace(tmp / "instruct-8", tmp / "instruct-repos", n)
        seq, s1 = timed_instruct(one, base_url, concurrency=1, batch_size=1)
        par, s8 = timed_instruct(many, base_url, concurrency=8, batch_size=3)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    share = par / seq
    ok = share <= 1 / 6
    print(
        f"instruct: {n} chunks, {latency * 1000:.0f} ms per call: one chunk per call, one at a "
        f"time {seq:.2f} s ({s1['calls_sent']} calls); batches of 3 at concurrency 8 "
        f"{par:.2f} s ({s8['calls_sent']} calls) = 1/{seq / par:.1f} of the time "
        f"(aim <= 1/6: {'met' if ok else 'NOT met'})"
    )
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "which", nargs="*", default=["collect-local", "collect-api", "chunk", "instruct"]
    )
    parser.add_argument("--check", action="store_true", help="exit 1 when an aim is missed")
    args = parser.parse_args()
    print(f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}")
    results = []
    with tempfile.TemporaryDirectory(prefix="graftwork-bench-readmes-") as tmp:
        tmp_path = Path(tmp)
        for name in args.which:
            fn = {
                "collect-local": lambda: bench_collect_local(tmp_path),
                "collect-api": lambda: bench_collect_api(tmp_path),
                "chunk": bench_chunk,
                "instruct": lambda: bench_instruct(tmp_path),
            }[name]
            results.append(fn())
    return 1 if args.check and not all(results) else 0


if __name__ == "__main__":
    sys.exit(main())
