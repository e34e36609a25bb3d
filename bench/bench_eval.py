"""`graftwork eval` on 200 examples: wall time, per-phase times and peak memory, printed.

Builds the tiny offline model, a set whose test split has N widget examples, trains the demo's
few LoRA iterations on it (stage train.demo), then evaluates the run in a fresh process (so
its peak memory is the evaluation's alone): loss over the references and generation, base and
adapter, plus the widget checks (tree-sitter) and the stores.

Then kill and resume: the same evaluation again as `graftwork eval` in its own process group,
SIGKILLed (with its generation child) once half of its generations are recorded, and rerun:
the rerun's time against the uninterrupted one, the generations it did not redo, and whether
its answers and per-example values equal the uninterrupted evaluation's.

Usage: python bench/bench_eval.py [--n 200] [--max-tokens 48] [--no-kill]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the kill harness's catalog reader

from support.kills import query  # noqa: E402

from graftwork.core.base.workspace import Workspace  # noqa: E402
from graftwork.core.dataset.examples import sha256_text  # noqa: E402

COLORS = ["red", "blue", "green", "gold", "pink", "gray", "teal", "navy"]


def write_set(ws: Workspace, name: str, n_test: int) -> None:
    folder = ws.datasets_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for split, count in (("train", 32), ("valid", 8), ("test", n_test)):
        lines = []
        for i in range(count):
            c = COLORS[i % len(COLORS)]
            answer = (
                f"export const command = 'echo {c}'\nexport const refreshFrequency = {1000 + i}\n"
                f"export const render = ({{output}}) => <div style={{{{color: '{c}'}}}}>{{output}}</div>"
            )
            line = json.dumps(
                [
                    {"role": "system", "content": "You write Übersicht widgets."},
                    {"role": "user", "content": f"A {c} widget number {i}."},
                    {"role": "assistant", "content": answer},
                ]
            )
            lines.append(line)
            items.append(
                {"id": f"{split}-{i}", "split": split, "example_sha256": sha256_text(line)}
            )
        (folder / f"{split}.jsonl").write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"name": name, "items": items}))


def evaluate(root: str, run_id: str, max_tokens: int) -> None:
    """The child: one eval stage, then its timings and peak memory as one JSON line."""
    from graftwork.core.stages import run_stage

    ws = Workspace(Path(root))
    t0 = time.perf_counter()
    result = run_stage(ws, "eval", {"run_id": run_id, "max_tokens": max_tokens})
    wall = time.perf_counter() - t0
    with ws.catalog() as db:
        loss = {
            r["model"]: json.loads(r["detail"])
            for r in db.query(
                "select model, detail from eval_results where eval_id = ? and metric = 'loss'",
                [result.summary["eval_id"]],
            )
        }
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # KiB -> MiB (Linux)
    me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        json.dumps(
            {
                "wall_s": wall,
                "examples": result.summary["examples"],
                "scores": result.summary["scores"],
                "loss": loss,
                "child_peak_mib": child,
                "parent_peak_mib": me,
            }
        )
    )


def _evaluation(ws: Workspace, eval_id: str) -> list[tuple]:
    return query(
        ws,
        "select i.item_id, i.model, i.metrics, s.base_output, s.adapter_output from eval_items i "
        "join samples s on s.id = i.sample_id where i.eval_id = ? order by i.id",
        (eval_id,),
    )


def kill_and_resume(ws: Workspace, run_id: str, max_tokens: int, share: float = 0.5) -> dict:
    """Start `graftwork eval`, SIGKILL it once ``share`` of its generations are recorded, rerun."""
    cmd = [sys.executable, "-m", "graftwork", "-w", str(ws.root), "eval", "--run", run_id]
    cmd += ["--max-tokens", str(max_tokens)]
    first = query(ws, "select eval_id from eval_results order by id desc limit 1")[0][0]
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    recorded = total = 0
    while proc.poll() is None:
        got = query(ws, "select done, total from jobs where kind = 'eval' and state = 'running'")
        if got and got[0][1]:
            recorded, total = got[0]
            if recorded >= share * total:
                break
        time.sleep(0.05)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_after = time.perf_counter() - t0
    kept = query(ws, "select count(*) from eval_progress where kind = 'sample'")[0][0]
    t0 = time.perf_counter()
    subprocess.run(cmd, capture_output=True, text=True, check=True)
    rerun = time.perf_counter() - t0
    newest = query(ws, "select eval_id from eval_results order by id desc limit 1")[0][0]
    left = query(ws, "select count(*) from eval_pending")[0][0]
    return {
        "killed_after_s": killed_after,
        "generations_kept": kept,
        "generations": total,
        "rerun_s": rerun,
        "identical": _evaluation(ws, newest) == _evaluation(ws, first),
        "pending_left": left,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=200)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--no-kill", action="store_true", help="skip the kill-and-resume figure")
    parser.add_argument("--evaluate", nargs=2, metavar=("WS", "RUN"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.evaluate:
        evaluate(*args.evaluate, args.max_tokens)
        return
    from graftwork.core.stages import run_stage

    with tempfile.TemporaryDirectory() as tmp:
        ws = Workspace.init(Path(tmp) / "ws")
        write_set(ws, "bench", args.n)
        t0 = time.perf_counter()
        trained = run_stage(ws, "train.demo", {"set_name": "bench"})
        run_id = trained.summary["run_id"]
        print(f"trained the demo adapter in {time.perf_counter() - t0:.1f} s (run {run_id})")
        out = subprocess.run(
            [
                sys.executable,
                __file__,
                "--evaluate",
                str(ws.root),
                run_id,
                "--max-tokens",
                str(args.max_tokens),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        got = json.loads(out.stdout.strip().splitlines()[-1])
        killed = None if args.no_kill else kill_and_resume(ws, run_id, args.max_tokens)
    s, loss = got["scores"], got["loss"]
    n = got["examples"]
    print(f"eval of {n} examples (max {args.max_tokens} new tokens, greedy), base and adapter:")
    print(f"  wall {got['wall_s']:.1f} s ({n / got['wall_s']:.1f} examples/s, both models)")
    for which in ("base", "adapter"):
        d = loss.get(which, {})
        print(
            f"  {which:7} loss pass {d.get('ms', 0) / 1000:.2f} s over {d.get('tokens')} answer tokens "
            "· generation "
            f"{s['tokens_per_sec'][which]:.0f} tokens/s · perplexity {s['perplexity'][which]:.2f} · "
            f"widget_complete {100 * (s['widget_complete'][which] or 0):.0f}%"
        )
    print(
        f"  peak RSS: generation/loss child {got['child_peak_mib']:.0f} MiB, "
        f"eval process {got['parent_peak_mib']:.0f} MiB"
    )
    if killed:
        k = killed
        print(
            f"kill + resume: SIGKILL after {k['killed_after_s']:.1f} s with "
            f"{k['generations_kept']}/{k['generations']} generations recorded; the rerun took "
            f"{k['rerun_s']:.1f} s (uninterrupted {got['wall_s']:.1f} s in-process) and redid "
            f"{k['generations'] - k['generations_kept']}; answers and values identical to the "
            f"uninterrupted evaluation: {k['identical']}; progress rows left: {k['pending_left']}"
        )


if __name__ == "__main__":
    main()
