"""Kill a stage at a random (seeded) moment and check that rerunning it gives what an
uninterrupted run gives. Real subprocesses (`python -m graftwork`, SIGKILL to the whole process
group so a training child dies too), real SQLite files, the real teacher and HTTP servers.

    stage = STAGES["budget"]
    ref = reference(stage, tmp / "ref", ctx)          # uninterrupted: its snapshot and time
    got = kill_and_resume(stage, tmp / "k0", ctx, ref, random.Random(0))
    assert got.problems == []

A snapshot is what a user relies on after the stage: the catalog rows that matter (no
timestamps or job ids), the files it writes (sha256), with the workspace's own path replaced
so two workspaces compare. After the rerun the harness also checks SQLite's integrity, that no
job is left `running`, and that no temp file (`*.tmp`, `.ingest-tmp/`, `datasets/.*`)
survived. Used by tests/test_kill_resume.py (one kill per stage) and
bench/bench_robustness.py (many).
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from support.widget_rows import add_widget

from graftwork.core.base.workspace import Workspace

GRAFTWORK = [sys.executable, "-m", "graftwork"]
KEY_ENV = "GW_KILL_KEY"


@dataclass
class Context:
    """What the stages share: the fake teacher's URL, the HTTP server for ingest, the tiny
    model folder for train and eval, a LoRA adapter of it for eval (each None when the caller
    has none)."""

    teacher_url: str | None = None
    http: Any = None  # support.http_server.LocalServer
    model_dir: Path | None = None
    adapter_dir: Path | None = None
    widgets: int = 60
    env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class KillStage:
    name: str
    kind: str  # the job kind to wait for before the kill
    prepare: Callable[[Workspace, Context], None]
    args: Callable[[Workspace, Context], list[str]]
    snapshot: Callable[[Workspace], dict[str, Any]]
    # The rerun's command (default: the same); it may look at the killed workspace.
    rerun: Callable[[Workspace, Context], list[str]] | None = None
    # Whether the rerun's exit is right (default: 0).
    accept: Callable[[int, str], bool] = lambda code, err: code == 0


@dataclass
class Reference:
    snapshot: dict[str, Any]
    work_seconds: float  # how long the stage's job ran


@dataclass
class KillResult:
    stage: str
    killed_after: float  # seconds after the job was seen running (or the start)
    job_state: str | None  # the killed job's state after the rerun (interrupted, done, ...)
    rerun_code: int
    rerun_err: str
    rerun_ok: bool
    differs: list[str]  # snapshot keys that differ from the uninterrupted run
    corrupt: str | None  # integrity_check's complaint
    stale_jobs: int  # jobs still `running` after the rerun
    temp_left: list[str]

    @property
    def failed_resume(self) -> bool:
        return bool(self.differs) or not self.rerun_ok

    @property
    def problems(self) -> list[str]:
        out = []
        if not self.rerun_ok:
            out.append(f"rerun exited {self.rerun_code}: {self.rerun_err.strip()[-500:]}")
        if self.differs:
            out.append(f"differs from an uninterrupted run: {self.differs}")
        if self.corrupt:
            out.append(f"catalog corrupt: {self.corrupt}")
        if self.stale_jobs:
            out.append(f"{self.stale_jobs} job(s) still running")
        if self.temp_left:
            out.append(f"temp files left: {self.temp_left}")
        return out


# ---- reading a workspace -----------------------------------------------------------------


def query(ws: Workspace, sql: str, params: tuple = ()) -> list[tuple]:
    conn = sqlite3.connect(f"{ws.db_path.resolve().as_uri()}?mode=ro", uri=True, timeout=10)
    try:
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def rows(ws: Workspace, sql: str) -> list[list[Any]]:
    """Rows as lists, the workspace's path written as WS (so two workspaces compare)."""
    root = str(ws.root.resolve())
    return [
        [v.replace(root, "WS") if isinstance(v, str) else v for v in row] for row in query(ws, sql)
    ]


def files(ws: Workspace, *patterns: str) -> dict[str, str]:
    """sha256 of every file matching ``patterns`` (globs relative to the workspace)."""
    out = {}
    for pattern in patterns:
        for p in sorted(ws.root.glob(pattern)):
            if p.is_file():
                out[p.relative_to(ws.root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def temp_files(ws: Workspace) -> list[str]:
    left = [p for p in ws.root.rglob("*.tmp")]
    left += [p for p in (ws.downloads_dir / ".ingest-tmp").glob("*")]
    if ws.datasets_dir.is_dir():
        left += [p for p in ws.datasets_dir.iterdir() if p.name.startswith(".")]
    return sorted(p.relative_to(ws.root).as_posix() for p in left)


def _job_seconds(ws: Workspace, kind: str) -> float:
    got = query(
        ws, "select started_at, ended_at from jobs where kind = ? order by started_at", (kind,)
    )
    if not got or not got[-1][1]:
        return 0.0
    start, end = (datetime.fromisoformat(t) for t in got[-1])
    return max(0.0, (end - start).total_seconds())


# ---- running ------------------------------------------------------------------------------


def _env(ctx: Context) -> dict[str, str]:
    return {**os.environ, "COLUMNS": "200", KEY_ENV: "sk-kill-test", **ctx.env}


def run(ws: Workspace, args: list[str], ctx: Context) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*GRAFTWORK, "-w", str(ws.root), *args],
        capture_output=True,
        text=True,
        env=_env(ctx),
        stdin=subprocess.DEVNULL,
        timeout=600,
    )


def reference(stage: KillStage, root: Path, ctx: Context) -> Reference:
    """The stage run once, uninterrupted, in a new workspace at ``root``."""
    ws = Workspace.init(root)
    stage.prepare(ws, ctx)
    done = run(ws, stage.args(ws, ctx), ctx)
    if done.returncode != 0:
        raise AssertionError(f"{stage.name}: the uninterrupted run failed: {done.stderr}")
    return Reference(stage.snapshot(ws), _job_seconds(ws, stage.kind))


def _wait_for_job(ws: Workspace, kind: str, proc: subprocess.Popen[bytes], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            if query(ws, "select 1 from jobs where kind = ? and state = 'running'", (kind,)):
                return True
        except sqlite3.Error:
            pass  # not created yet, or mid-migration
        time.sleep(0.005)
    return False


def _wait_for_progress(
    ws: Workspace, kind: str, proc: subprocess.Popen[bytes], share: float, deadline: float
) -> None:
    """Until the job has done ``share`` of its items or the clock reached ``deadline`` (the
    same share of the uninterrupted run's time: short stages store no progress before
    their end)."""
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            got = query(
                ws,
                "select done, total from jobs where kind = ? and state = 'running'",
                (kind,),
            )
        except sqlite3.Error:
            got = []
        if got and got[0][1] and got[0][0] >= share * got[0][1]:
            return
        time.sleep(0.01)


def kill_and_resume(
    stage: KillStage, root: Path, ctx: Context, ref: Reference, rng: random.Random
) -> KillResult:
    """Start the stage in a new workspace at ``root``, SIGKILL it at a random moment of its
    work (a random share of its progress or time, plus up to 0.1 s), rerun it."""
    ws = Workspace.init(root)
    stage.prepare(ws, ctx)
    proc = subprocess.Popen(
        [*GRAFTWORK, "-w", str(ws.root), *stage.args(ws, ctx)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
        env=_env(ctx),
        start_new_session=True,  # its own process group: the kill takes any child too
    )
    _wait_for_job(ws, stage.kind, proc, timeout=120)
    seen = time.monotonic()
    # The moment is a share of the job's progress (its done/total, stored every half second)
    # or of the uninterrupted run's time, whichever comes first, plus a jitter so the kill
    # lands inside an item too: a busier machine moves the clock, not the progress.
    share = rng.random()
    _wait_for_progress(ws, stage.kind, proc, share, seen + share * ref.work_seconds + 0.05)
    time.sleep(rng.uniform(0, 0.1))
    delay = time.monotonic() - seen
    with contextlib.suppress(ProcessLookupError):  # it had finished: a kill after the end too
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    killed_jobs = {r[0] for r in query(ws, "select id from jobs where kind = ?", (stage.kind,))}

    again = run(ws, (stage.rerun or stage.args)(ws, ctx), ctx)
    state = None
    if killed_jobs:  # the first job of the kind is the killed run's
        marks = ", ".join("?" for _ in killed_jobs)
        first = sorted(
            query(
                ws,
                f"select started_at, state from jobs where id in ({marks})",
                tuple(killed_jobs),
            )
        )
        state = first[0][1] if first else None
    integrity = query(ws, "PRAGMA integrity_check")[0][0]
    snap = stage.snapshot(ws)
    return KillResult(
        stage=stage.name,
        killed_after=delay,
        job_state=state,
        rerun_code=again.returncode,
        rerun_err=again.stderr,
        rerun_ok=stage.accept(again.returncode, again.stderr),
        differs=sorted(
            k for k in set(snap) | set(ref.snapshot) if snap.get(k) != ref.snapshot.get(k)
        ),
        corrupt=None if integrity == "ok" else integrity,
        stale_jobs=query(ws, "select count(*) from jobs where state = 'running'")[0][0],
        temp_left=temp_files(ws),
    )


# ---- the stages ---------------------------------------------------------------------------


def _widgets(ws: Workspace, ctx: Context, *, prompts: bool) -> None:
    with ws.catalog() as db:
        for i in range(ctx.widgets):
            add_widget(
                db,
                ws,
                f"w{i:03d}",
                order=i,
                prompt=f"Create a widget that shows item {i}." if prompts else None,
            )


def _budget_snapshot(ws: Workspace) -> dict[str, Any]:
    return {
        "budget": rows(
            ws,
            "select item_id, max_tokens, total_tokens, widget_tokens, parts, action, reason, "
            "over_by, tokenizer, example_sha256 from budget order by item_id",
        ),
        "files": files(ws, "training_data_size_analysis.json", "training_data_strategy.json"),
    }


def _prompt_files(ws: Workspace, ctx: Context) -> Path:
    folder = ws.root / "incoming"
    folder.mkdir(exist_ok=True)
    for i in range(ctx.widgets):
        text = f"Create an Übersicht widget that shows item {i} in a small panel."
        (folder / f"w{i:03d}.prompt").write_text(text, encoding="utf-8")
    return folder


def _import_prepare(ws: Workspace, ctx: Context) -> None:
    _widgets(ws, ctx, prompts=False)
    _prompt_files(ws, ctx)


def _revisions_snapshot(ws: Workspace) -> dict[str, Any]:
    return {
        "revisions": rows(
            ws,
            "select item_id, rev, text, sha256, state, origin from prompt_revisions "
            "order by item_id, rev",
        ),
        "files": files(ws, "prompts/*.prompt"),
    }


def _teach_snapshot(ws: Workspace) -> dict[str, Any]:
    snap = _revisions_snapshot(ws)
    # Each finished call is paid once: a resumed run reuses the calls the killed one finished.
    snap["ok_calls"] = query(ws, "select count(*) from teacher_calls where status = 'ok'")[0][0]
    return snap


def _teach_args(ws: Workspace, ctx: Context) -> list[str]:
    assert ctx.teacher_url, "teach needs the fake teacher server"
    return [
        "teach",
        "prompts",
        "--yes",
        "--base-url",
        ctx.teacher_url,
        "--api-key-env",
        KEY_ENV,
        "--concurrency",
        "2",
    ]


def _ingest_prepare(ws: Workspace, ctx: Context) -> None:
    from support.http_server import Reply

    assert ctx.http is not None, "ingest needs the local HTTP server"
    entries = []
    for i in range(ctx.widgets):
        item_id = f"w{i:03d}"
        url = ctx.http.route(f"/kill/{item_id}.zip", Reply(body=_zip_of(i), delay=0.02))
        entries.append({"id": item_id, "name": item_id, "downloadUrl": url})
    (ws.root / "manifest.json").write_text(json.dumps({"widgets": entries}), encoding="utf-8")


def _zip_of(i: int) -> bytes:
    """Widget ``i``'s archive, the same bytes every time (fixed member dates)."""
    item_id = f"w{i:03d}"
    members = {
        f"{item_id}.widget/index.jsx": f"// {item_id}\nexport const command = 'date'\n".encode(),
        f"{item_id}.widget/data.bin": random.Random(i).randbytes(20_000),
    }
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0)), data)
    return buf.getvalue()


def _ingest_snapshot(ws: Workspace) -> dict[str, Any]:
    return {
        "downloads": rows(
            ws,
            "select item_id, url, status, archive_sha256, archive_bytes, extracted_bytes, "
            "file_count, path, error from downloads order by item_id",
        ),
        "files": files(ws, "downloads/**/*"),
    }


def _build_prepare(ws: Workspace, ctx: Context) -> None:
    _widgets(ws, ctx, prompts=True)


def _build_snapshot(ws: Workspace) -> dict[str, Any]:
    manifest = ws.datasets_dir / "v1" / "manifest.json"
    shown = json.loads(manifest.read_text(encoding="utf-8")) if manifest.is_file() else None
    if shown:
        shown.pop("created_at", None)  # the one thing two builds of the same set differ in
    return {
        "datasets": rows(
            ws, "select name, config_hash, tokenizer, counts, path from datasets order by name"
        ),
        "manifest": shown,
        "files": files(ws, "datasets/v1/*.jsonl"),
    }


def _build_accept(code: int, err: str) -> bool:
    # A kill after the set was placed and recorded leaves a finished set: the rerun rightly
    # refuses to overwrite it.
    return code == 0 or (code == 2 and "already exists" in err)


TRAIN_YAML = """\
train:
  model: {model}
  learning_rate: 0.001
  iters: 8
  steps_per_report: 2
  steps_per_eval: 4
  steps_per_save: 2
  val_batches: 2
  seed: 7
  lora: {{num_layers: -1}}
"""


def _train_prepare(ws: Workspace, ctx: Context) -> None:
    from support.tiny_model import write_tiny_set

    assert ctx.model_dir is not None, "train needs the tiny model"
    write_tiny_set(ws.datasets_dir, "tiny")
    ws.config_path.write_text(TRAIN_YAML.format(model=ctx.model_dir), encoding="utf-8")


def _train_rerun(ws: Workspace, ctx: Context) -> list[str]:
    """`train --resume RUN` when the kill left a run, else the same command again."""
    runs = query(ws, "select id from runs order by started_at") if _has_runs(ws) else []
    return ["train", "--resume", runs[-1][0]] if runs else ["train", "--set", "tiny"]


def _has_runs(ws: Workspace) -> bool:
    return bool(query(ws, "select 1 from sqlite_master where name = 'runs'"))


def _train_snapshot(ws: Workspace) -> dict[str, Any]:
    got = (
        query(ws, "select state, last_iteration, total_iters from runs order by started_at")
        if _has_runs(ws)
        else []
    )
    return {
        "runs": [list(r) for r in got],
        "adapter": bool(list(ws.runs_dir.glob("*/adapters/adapters.safetensors")))
        or bool(list(ws.runs_dir.glob("*/adapters/*/adapters.safetensors"))),
    }


EVAL_RUN = "20261122-020000-widgets-abcd"
EVAL_EXAMPLES = 8


def _eval_prepare(ws: Workspace, ctx: Context) -> None:
    """A finished run of the tiny model with its adapter, and a set whose test split holds
    EVAL_EXAMPLES prompts (some the adapter learned, some not)."""
    from support.review_world import make_run, write_trained_set

    assert ctx.model_dir is not None and ctx.adapter_dir is not None, "eval needs model + adapter"
    write_trained_set(ws, "widgets", tests=EVAL_EXAMPLES)
    make_run(ws, "widgets", str(ctx.model_dir), ctx.adapter_dir, run_id=EVAL_RUN)


def _rounded(row: tuple[Any, ...]) -> list[Any]:
    # Loss and rates as the report shows them: a loss computed in another process must agree,
    # not to the last bit.
    return [round(v, 6) if isinstance(v, float) else v for v in row]


def _eval_snapshot(ws: Workspace) -> dict[str, Any]:
    """The newest evaluation without ids and times (tokens/s is a timing), and what is left
    of evaluations in progress (nothing, once one finished)."""
    newest = query(ws, "select eval_id from eval_results order by id desc limit 1")
    if not newest:
        return {"evaluation": None}
    eval_id = newest[0][0]
    items = query(
        ws,
        "select i.item_id, i.model, i.metrics, s.prompt, s.reference, s.base_output, "
        "s.adapter_output, s.base_tokens, s.adapter_tokens, s.seed, s.max_tokens "
        "from eval_items i join samples s on s.id = i.sample_id where i.eval_id = ? "
        "order by i.id",
        (eval_id,),
    )
    results = query(
        ws,
        "select model, metric, value, n, source, checkpoint from eval_results "
        "where eval_id = ? and metric != 'tokens_per_sec' order by id",
        (eval_id,),
    )
    pending = query(
        ws, "select (select count(*) from eval_pending) + (select count(*) from eval_progress)"
    )[0][0]
    return {
        "items": [list(r) for r in items],
        "results": [_rounded(r) for r in results],
        "pending": pending,
        "report": (ws.runs_dir / EVAL_RUN / "eval_test.md").is_file(),
    }


STAGES: dict[str, KillStage] = {
    "ingest": KillStage(
        "ingest",
        "ingest",
        _ingest_prepare,
        lambda ws, ctx: ["ingest", "--manifest", str(ws.root / "manifest.json")],
        _ingest_snapshot,
    ),
    "budget": KillStage(
        "budget",
        "budget",
        lambda ws, ctx: _widgets(ws, ctx, prompts=True),
        lambda ws, ctx: ["budget"],
        _budget_snapshot,
    ),
    "build": KillStage(
        "build",
        "build",
        _build_prepare,
        lambda ws, ctx: ["build", "--set", "v1"],
        _build_snapshot,
        accept=_build_accept,
    ),
    "prompts import": KillStage(
        "prompts import",
        "prompts.import",
        _import_prepare,
        lambda ws, ctx: ["prompts", "import", str(ws.root / "incoming")],
        _revisions_snapshot,
    ),
    "teach": KillStage(
        "teach",
        "teach",
        lambda ws, ctx: _widgets(ws, ctx, prompts=False),
        _teach_args,
        _teach_snapshot,
    ),
    "train": KillStage(
        "train",
        "train",
        _train_prepare,
        lambda ws, ctx: ["train", "--set", "tiny"],
        _train_snapshot,
        rerun=_train_rerun,
    ),
    "eval": KillStage(
        "eval",
        "eval",
        _eval_prepare,
        lambda ws, ctx: ["eval", "--run", EVAL_RUN, "--max-tokens", "24"],
        _eval_snapshot,
    ),
}


# ---- concurrent teach runs ----------------------------------------------------------------


@dataclass
class Concurrent:
    codes: list[int]
    errs: list[str]
    widgets: int
    requests: int  # chat requests the teacher received
    unique: int  # distinct request bodies among them
    prompted: int  # widgets with an accepted teacher prompt afterwards

    @property
    def duplicates(self) -> int:
        """Paid calls beyond one per widget (a widget asked twice, by either run)."""
        return self.requests - self.unique


def two_teach_runs(root: Path, teacher: Any, ctx: Context, stagger: float = 0.0) -> Concurrent:
    """Two `teach prompts` processes on one workspace at once (the second ``stagger`` s after
    the first), both to completion; what the teacher received."""
    ws = Workspace.init(root)
    _widgets(ws, ctx, prompts=False)
    before = len(teacher.requests)
    cmd = [*GRAFTWORK, "-w", str(ws.root), *_teach_args(ws, ctx)]
    procs = []
    for n in range(2):
        if n:
            time.sleep(stagger)
        procs.append(
            subprocess.Popen(
                cmd,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                env=_env(ctx),
                text=True,
            )
        )
    errs = [p.communicate(timeout=300)[1] for p in procs]
    bodies = [json.dumps(r["body"], sort_keys=True) for r in teacher.requests[before:]]
    accepted = query(
        ws,
        "select count(distinct item_id) from prompt_revisions "
        "where origin = 'teacher' and state = 'accepted'",
    )[0][0]
    return Concurrent(
        [p.returncode for p in procs], errs, ctx.widgets, len(bodies), len(set(bodies)), accepted
    )


# ---- a job whose process was killed ----------------------------------------------------------


def job_process(
    ws: Workspace, kind: str, params: dict[str, Any] | None = None
) -> tuple[subprocess.Popen[str], str]:
    """A real process that opens a job of ``kind`` and hangs, and the job's id."""
    code = (
        "import json, sys, time\n"
        "from pathlib import Path\n"
        "from graftwork.core.base.workspace import Workspace\n"
        "from graftwork.core.base.jobs import Job\n"
        f"db = Workspace(Path({str(ws.root)!r})).catalog()\n"
        f"job = Job(db, {kind!r}, json.loads({json.dumps(params or {})!r}))\n"
        "print(job.id, flush=True)\n"
        "time.sleep(600)\n"  # killed by the caller; long enough for any loaded machine
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    job_id = proc.stdout.readline().strip() if proc.stdout else ""
    if proc.stdout is not None:
        proc.stdout.close()  # it prints nothing more; an open pipe would outlive the test
    assert job_id, "the child did not start its job"
    return proc, job_id


def killed_job(ws: Workspace, kind: str = "ingest", params: dict[str, Any] | None = None) -> str:
    """The id of a job left `running` by a process that was then SIGKILLed."""
    proc, job_id = job_process(ws, kind, params)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    return job_id
