"""Training throughput: `graftwork train` against plain `python -m mlx_lm lora`, same tiny
model, same data, same settings, measured in the same run (alternating, median of repeats).

Two data sets:
- uniform: every example about the same length. graftwork should reach >= 0.95 of mlx-lm.
- mixed: every fourth answer ~10x longer. mlx-lm batches chat data in file order (its length
  sort looks at the number of JSON keys, research P11), so each batch pads to a long example;
  graftwork buckets by real token length and should beat it.

tokens/s is what mlx-lm's trainer reports (loss-bearing tokens per second of step time),
averaged over reports after the first (JIT warm-up); "wall" is trained tokens divided by the
whole command's wall time (process start, model load, data, validation, saving included).

Usage: python bench/bench_train.py [--iters 60] [--repeats 3] [--hidden 64] [--layers 2]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from graftwork.adapters.mlx.tiny_model import build_tiny_model  # noqa: E402
from graftwork.adapters.mlx.trainer import child_env  # noqa: E402
from graftwork.core.base.workspace import Workspace  # noqa: E402
from graftwork.core.train.data import export_set  # noqa: E402

COLORS = ["red", "blue", "green", "gold", "pink", "gray", "teal", "navy"]
TOOL = {
    "type": "function",
    "function": {
        "name": "create_widget",
        "description": "Create a widget.",
        "arguments": {"type": "object", "properties": {"name": {"type": "string"}}},
    },
}
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
REPORT = re.compile(r"^\s*(\d+)\s+([\d.]+)\s+[▼▲]\s+([\d,]+)\s+([\d.]+)k\s*$")


def write_set(
    ws: Workspace, name: str, n: int, mixed: bool, *, n_valid: int = 16, repeat: int = 1
) -> None:
    """A built set; ``mixed``: every fourth answer 12x longer; ``repeat``: every answer
    that many lines (longer steps; bench_cancel.py)."""
    folder = ws.datasets_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for split, count in (("train", n), ("valid", n_valid), ("test", 4)):
        lines = []
        for i in range(count):
            c = COLORS[i % len(COLORS)]
            answer = f"export const render = () => <div style={{{{color: '{c}'}}}}>{c} {i}</div>;"
            answer = "\n".join([answer] * repeat)
            if mixed and i % 4 == 0:
                answer = "\n".join([answer] * 12)
            line = json.dumps(
                [
                    {"role": "system", "content": "You write widgets.", "tools": [TOOL]},
                    {"role": "user", "content": f"Make a {c} widget number {i}."},
                    {"role": "assistant", "content": answer},
                ]
            )
            lines.append(line)
            items.append(
                {"id": f"{split}-{i}", "example_sha256": hashlib.sha256(line.encode()).hexdigest()}
            )
        (folder / f"{split}.jsonl").write_text("".join(x + "\n" for x in lines))
    (folder / "manifest.json").write_text(json.dumps({"items": items}))


def run_graftwork(
    ws: Workspace, set_name: str, model: Path, args: argparse.Namespace, buckets: bool
) -> dict:
    ws.config_path.write_text(
        json.dumps(
            {
                "train": {
                    "model": str(model),
                    "batch_size": 4,
                    "learning_rate": 1e-4,
                    "mask_prompt": True,
                    "lora": {"num_layers": args.layers, "rank": 8, "scale": 20.0},
                    "steps_per_report": 10,
                    "steps_per_eval": args.iters,
                    "val_batches": 1,
                    "steps_per_save": 10 * args.iters,
                    "seed": 0,
                    "length_buckets": buckets,
                }
            }
        )
    )
    before = set(ws.runs_dir.iterdir())
    t0 = time.perf_counter()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "graftwork",
            "-w",
            str(ws.root),
            "train",
            "--set",
            set_name,
            "--iters",
            str(args.iters),
        ],
        capture_output=True,
        text=True,
        env=child_env(),
    )
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"graftwork train failed:\n{proc.stderr[-2000:]}")
    (rdir,) = set(ws.runs_dir.iterdir()) - before
    events = [json.loads(x) for x in (rdir / "metrics.jsonl").read_text().splitlines()]
    train = [e for e in events if e["type"] == "train"]
    return {
        "tok_s": statistics.mean(e["tokens_per_sec"] for e in train[1:]),
        "wall": train[-1]["trained_tokens"] / wall,
        "data": rdir / "data",
    }


def run_mlx_lm(data: Path, model: Path, args: argparse.Namespace, out: Path) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "mlx_lm",
        "lora",
        "--model",
        str(model),
        "--train",
        "--data",
        str(data),
        "--iters",
        str(args.iters),
        "--batch-size",
        "4",
        "--num-layers",
        str(args.layers),
        "--learning-rate",
        "1e-4",
        "--mask-prompt",
        "--steps-per-report",
        "10",
        "--steps-per-eval",
        str(args.iters),
        "--val-batches",
        "1",
        "--save-every",
        str(10 * args.iters),
        "--max-seq-length",
        "4095",
        "--seed",
        "0",
        "--adapter-path",
        str(out),
    ]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=child_env())
    wall = time.perf_counter() - t0
    if proc.returncode:
        raise SystemExit(f"mlx_lm lora failed:\n{proc.stdout[-1500:]}\n{proc.stderr[-1500:]}")
    reports = [REPORT.match(ANSI.sub("", line)) for line in proc.stdout.splitlines()]
    reports = [m for m in reports if m]
    if len(reports) < 2:
        raise SystemExit(f"could not read mlx-lm's reports:\n{proc.stdout[-1500:]}")
    tok_s = [float(m.group(3).replace(",", "")) for m in reports]
    return {"tok_s": statistics.mean(tok_s[1:]), "wall": float(reports[-1].group(4)) * 1000 / wall}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--iters", type=int, default=60)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--hidden", type=int, default=64)
    ap.add_argument("--layers", type=int, default=2)
    args = ap.parse_args()
    os.environ["HF_HUB_OFFLINE"] = "1"
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        model = build_tiny_model(tmp_path / "model", hidden=args.hidden, layers=args.layers)
        ws = Workspace.init(tmp_path / "ws")
        results = {}
        for name, mixed in (("uniform", False), ("mixed", True)):
            write_set(ws, name, 64, mixed)
            data = tmp_path / f"data-{name}"
            export_set(ws, name, data)
            variants = {
                "graftwork": lambda s=name: run_graftwork(ws, s, model, args, True),
                "mlx_lm": lambda d=data: run_mlx_lm(d, model, args, tmp_path / "adapters"),
            }
            if mixed:
                variants["graftwork_no_buckets"] = lambda s=name: run_graftwork(
                    ws, s, model, args, False
                )
            variants["graftwork"]()  # warm-up: fills MLX's JIT kernel cache (research P2)
            variants["mlx_lm"]()
            samples: dict[str, list[dict]] = {k: [] for k in variants}
            for _ in range(args.repeats):  # alternate so drift hits both sides alike
                for key, fn in variants.items():
                    samples[key].append(fn())
            results[name] = {
                k: {m: statistics.median(s[m] for s in v) for m in ("tok_s", "wall")}
                for k, v in samples.items()
            }
    print(
        f"tiny model hidden={args.hidden} layers={args.layers}, {args.iters} iters, batch 4, "
        f"median of {args.repeats}; LD_PRELOAD={child_env().get('LD_PRELOAD', '-')}"
    )
    for name, res in results.items():
        for key, r in res.items():
            print(
                f"  {name:8s} {key:22s} {r['tok_s']:9.0f} tok/s (trainer)  {r['wall']:9.0f} tok/s (wall)"
            )
        g, p = res["graftwork"], res["mlx_lm"]
        print(
            f"  {name:8s} ratio graftwork/mlx_lm: {g['tok_s'] / p['tok_s']:.3f} (trainer), "
            f"{g['wall'] / p['wall']:.3f} (wall)"
        )
        if "graftwork_no_buckets" in res:
            nb = res["graftwork_no_buckets"]
            print(
                f"  {name:8s} ratio graftwork without buckets/mlx_lm: {nb['tok_s'] / p['tok_s']:.3f} (trainer)"
            )


if __name__ == "__main__":
    main()
