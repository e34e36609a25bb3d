"""`graftwork ship` of a tiny llama model, per target: wall time of the whole command (process
start, model load, fuse, quantize or export, model card, rename) and the peak resident memory
of the command and its mlx child (the larger of the two), plus what it wrote.

The model and its LoRA adapter are built offline (random weights, BPE trained on the spot);
`fmadapter` runs the fake Apple toolkit of the tests, so it measures graftwork's own overhead.

Usage: python bench/bench_ship.py [--hidden 64] [--layers 2] [--repeats 1]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import yaml  # noqa: E402
from support.ship_world import build_model_and_adapter, make_trained_run  # noqa: E402

from graftwork.core.base.workspace import Workspace  # noqa: E402

FAKE_TOOLKIT = ROOT / "tests" / "support" / "fake_apple_toolkit"
RUN = "20261201-100000-bench-abcd"

# Runs one command and prints the peak RSS (KiB on Linux) over it and every descendant it
# waited for: the CLI and its mlx child.
_MEASURE = (
    "import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(p.returncode)"
)


def ship(ws: Workspace, *args: str) -> tuple[float, float]:
    """(seconds, peak MiB) of one `graftwork ship`."""
    argv = [sys.executable, "-m", "graftwork", "-w", str(ws.root), "ship", *args, "--force"]
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, *argv],
        capture_output=True,
        text=True,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"ship {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    peak_kib = int(done.stdout.strip().splitlines()[-1])
    return seconds, peak_kib / 1024


def folder_mib(path: Path) -> float:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        model, adapter = build_model_and_adapter(base, hidden=args.hidden, layers=args.layers)
        ws = Workspace.init(base / "ws")
        make_trained_run(ws, model, adapter, set_name="bench", run_id=RUN)
        ws.config_path.write_text(
            yaml.safe_dump(
                {"train": {"apple": {"toolkit_dir": str(FAKE_TOOLKIT), "python": sys.executable}}}
            )
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "graftwork",
                "-w",
                str(ws.root),
                "apple",
                "train",
                "--set",
                "bench",
            ],
            check=True,
            capture_output=True,
        )
        with ws.catalog() as db:
            job = next(db.query("select id from jobs where kind = 'apple.train'"))["id"]
        weights = folder_mib(model)
        print(
            f"tiny llama: hidden {args.hidden}, {args.layers} layers, "
            f"{weights:.1f} MiB float32 on disk; median of {args.repeats}"
        )
        cases = [
            ("mlx", ["--run", RUN, "--to", "mlx"], "mlx-best"),
            ("mlx --quantize 4", ["--run", RUN, "--to", "mlx", "--quantize", "4"], "mlx-q4-best"),
            ("mlx --quantize 8", ["--run", RUN, "--to", "mlx", "--quantize", "8"], "mlx-q8-best"),
            ("gguf", ["--run", RUN, "--to", "gguf"], "gguf-best"),
            ("ollama", ["--run", RUN, "--to", "ollama"], "ollama-best"),
            ("fmadapter (fake toolkit)", ["--run", f"apple-{job}", "--to", "fmadapter"], ""),
        ]
        print(f"{'target':<26} {'seconds':>8} {'peak MiB':>9} {'output MiB':>11}")
        for label, ship_args, folder in cases:
            runs = [ship(ws, *ship_args) for _ in range(args.repeats)]
            seconds = statistics.median(r[0] for r in runs)
            peak = statistics.median(r[1] for r in runs)
            out = (
                ws.runs_dir / RUN / "ship" / folder
                if folder
                else ws.runs_dir / f"apple-{job}" / "ship" / "fmadapter-best"
            )
            print(f"{label:<26} {seconds:>8.2f} {peak:>9.0f} {folder_mib(out):>11.2f}")
        record = json.loads((ws.runs_dir / RUN / "ship" / "gguf-best" / "ship.json").read_text())
        print(f"gguf files: {record['files']}")


if __name__ == "__main__":
    main()
