"""Cancel latency of real training: from the request to the job row leaving "running".

    .venv/bin/python bench/bench_cancel.py [--hidden 256] [--layers 4] [--repeat 20] [--repeats 3]

The train stage runs as the TUI runs it (run_job in a thread, MlxTrainer, a cancel Event set
by the Runs pane's `c`); another connection polls the job row every 10 ms, as the Runs pane's
catalog reads would see it. Moments:

- load: the request comes as the job starts: the child is importing mlx-lm and loading the
  model (it ends at once, nothing to save);
- between batches: a small model, steps of a few ms (the child stops at the next batch with a
  checkpoint); "runs --cancel": the same, asked through the run's cancel file as
  `graftwork runs --cancel` and another window do;
- during a batch: a larger model on long examples, so one step takes longer than the grace
  period; the request comes 0.2 s into a step (the parent escalates: SIGTERM, then SIGKILL);
- during validation: the same model validating 24 batches before the first step; the request
  comes 0.5 s after the child reported its start (the child stops between two validation
  batches, or is signalled when one batch outlasts the grace period).

Each line: latency, how the child stopped (checkpoint at a safe point | SIGTERM | SIGKILL),
the iteration the run resumes at, and whether the run was left consistent (cancelled, one
whole checkpoint, no temporary files). Target (issue 10): < 2 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from graftwork.adapters.mlx import trainer as mlx_trainer
from graftwork.adapters.mlx.tiny_model import build_tiny_model
from graftwork.core.base.jobs import JobEvent, run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.train.runs import get_run
from graftwork.core.train.train import train

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_train import write_set

TARGET = 2.0


class Trial:
    """One training run cancelled at a moment chosen by ``trigger(event, trial)``."""

    def __init__(
        self,
        ws: Workspace,
        set_name: str,
        overrides: dict[str, Any],
        trigger,
        via_file: bool = False,
    ) -> None:
        self.via_file = via_file  # as `graftwork runs --cancel` does: the run's cancel file
        self.ws = ws
        self.set_name = set_name
        self.overrides = overrides
        self.trigger = trigger
        self.cancel = threading.Event()
        self.job_id: str | None = None
        self.events: list[tuple[float, JobEvent]] = []
        self.result: Any = None
        self.error: BaseException | None = None

    def listen(self, event: JobEvent) -> None:
        self.job_id = self.job_id or event.job_id
        self.events.append((time.monotonic(), event))

    def work(self) -> None:
        try:
            with self.ws.catalog() as db:
                self.result = run_job(
                    db,
                    "train",
                    lambda job: train(
                        self.ws,
                        self.set_name,
                        trainer=mlx_trainer.MlxTrainer(),
                        job=job,
                        overrides=self.overrides,
                    ),
                    listeners=[self.listen],
                    cancel_event=self.cancel,
                )
        except BaseException as exc:  # reported in the table
            self.error = exc

    def run(self) -> dict[str, Any]:
        thread = threading.Thread(target=self.work, daemon=True)
        thread.start()
        deadline = time.monotonic() + 600
        while not self.trigger(self) and time.monotonic() < deadline:
            if not thread.is_alive():
                raise SystemExit(f"the run ended before the cancel moment: {self.error}")
            time.sleep(0.005)
        asked = time.monotonic()
        if self.via_file:
            from graftwork.core.train.cancel import request_cancel, run_of_job

            with self.ws.catalog() as db:
                request_cancel(self.ws, db, run_of_job(db, self.job_id) or "")
        else:
            self.cancel.set()
        with self.ws.catalog() as db:  # the job row, as any reader of the catalog sees it
            while True:
                row = db.execute("SELECT state FROM jobs WHERE id = ?", [self.job_id]).fetchone()
                if row and row[0] != "running":
                    stopped = time.monotonic()
                    break
                time.sleep(0.01)
        thread.join(60)
        return self.report(stopped - asked, row[0])

    def report(self, latency: float, state: str) -> dict[str, Any]:
        with self.ws.catalog() as db:
            run = next(iter(db.query("SELECT * FROM runs WHERE job_id = ?", [self.job_id])))
            run = get_run(db, run["id"])
        rdir = self.ws.runs_dir / run["id"]
        events = [json.loads(x) for x in (rdir / "metrics.jsonl").read_text().splitlines()]
        final = [e for e in events if e["type"] == "finished"][-1]
        steps = [
            1 / e["it_per_sec"] for e in events if e["type"] == "train" and e.get("it_per_sec")
        ]
        vals = [e["val_time"] for e in events if e["type"] == "val" and e.get("val_time")]
        last = rdir / "adapters" / "last"
        whole = not last.exists() or {p.name for p in last.iterdir()} == {
            "adapter_config.json",
            "adapters.safetensors",
            "optimizer.safetensors",
            "state.json",
        }
        saved = (
            json.loads((last / "state.json").read_text())["iteration"]
            if (last / "state.json").exists()
            else 0
        )
        leftovers = [
            p
            for p in rdir.rglob("*")
            if p.name.endswith((".tmp", ".partial", ".old")) or p.name == "CANCEL"
        ]
        how = final.get("stopped_by") or (
            "checkpoint at a safe point"
            if final.get("checkpoint") == "written"
            else "stopped where it was (last checkpoint kept)"
        )
        consistent = (
            state == "cancelled"
            and run["state"] == "cancelled"
            and whole
            and saved == (run["last_iteration"] or 0)
            and not leftovers
        )
        return {
            "latency": latency,
            "how": how,
            "resumes_at": saved,
            "consistent": consistent,
            "step": max(steps) if steps else None,
            "val": max(vals) if vals else None,
        }


def after_event(kind: str, delay: float, count: int = 1):
    """Trigger ``delay`` s after the ``count``-th child event of ``kind`` reached the job."""

    def trigger(t: Trial) -> bool:
        seen = [ts for ts, e in t.events if _child_kind(e) == kind]
        return len(seen) >= count and time.monotonic() - seen[count - 1] >= delay

    return trigger


def _child_kind(e: JobEvent) -> str:
    """Which child event a JobEvent came from (core/train/train.py _on_event)."""
    if e.type == "started":
        return "job"  # the Job's own start, before the child runs
    if e.type == "total":
        return "started"
    if e.type == "progress":
        return "train"
    if e.type == "log" and "val loss" in e.message:
        return "val"
    return e.type


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--hidden", type=int, default=256, help="the larger model's hidden size")
    ap.add_argument("--layers", type=int, default=4, help="the larger model's layers")
    ap.add_argument("--repeat", type=int, default=20, help="answer length (x one line)")
    ap.add_argument("--repeats", type=int, default=3, help="trials per moment")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print("building the models…", flush=True)
        small = build_tiny_model(root / "small")
        large = build_tiny_model(root / "large", hidden=args.hidden, layers=args.layers)
        base = {
            "batch_size": 4,
            "learning_rate": 1e-4,
            "steps_per_report": 1,
            "steps_per_save": 1000,
            "val_batches": 1,
            "iters": 100_000,
            "max_seq_length": 8192,
            "lora": {"num_layers": -1},
        }
        small_cfg = {**base, "model": str(small), "steps_per_eval": 100_000}
        slow_step = {**base, "model": str(large), "steps_per_eval": 100_000}
        slow_val = {**base, "model": str(large), "steps_per_eval": 1, "val_batches": 24}
        moments = [
            ("load", "short", small_cfg, lambda t: t.job_id is not None),
            ("between batches", "short", small_cfg, after_event("train", 0.0, 5)),
            ("runs --cancel", "short", small_cfg, after_event("train", 0.0, 5), True),
            ("during a batch", "long", slow_step, after_event("train", 0.2, 1)),
            # mlx-lm validates before the first step: the request lands in that validation
            ("during validation", "long", slow_val, after_event("started", 0.5, 1)),
        ]
        moments = [(*m, False) if len(m) == 4 else m for m in moments]
        ws = Workspace.init(root / "ws")
        write_set(ws, "short", 32, False, n_valid=8)
        write_set(ws, "long", 32, False, n_valid=96, repeat=args.repeat)
        print(
            f"{'moment':<20} {'latency s':>10}  {'stopped':<44} {'resumes at':>10}  "
            f"consistent  {'step s':>6} {'val s':>6}"
        )
        worst: dict[str, list[float]] = {}
        for name, set_name, cfg, trigger, via_file in moments:
            got = []
            for _ in range(args.repeats):
                r = Trial(ws, set_name, cfg, trigger, via_file).run()
                got.append(r["latency"])
                print(
                    f"{name:<20} {r['latency']:>10.2f}  {r['how']:<44} {r['resumes_at']:>10}"
                    f"  {'yes' if r['consistent'] else 'NO':<10}  {_s(r['step']):>6}"
                    f" {_s(r['val']):>6}",
                    flush=True,
                )
            worst[name] = got
        print()
        for name, values in worst.items():
            verdict = "ok" if max(values) < TARGET else "MISSED"
            print(
                f"{name:<20} worst {max(values):.2f} s, median {statistics.median(values):.2f} s"
                f" (target < {TARGET:.0f} s): {verdict}"
            )


def _s(x: float | None) -> str:
    return "-" if x is None else f"{x:.2f}"


if __name__ == "__main__":
    main()
