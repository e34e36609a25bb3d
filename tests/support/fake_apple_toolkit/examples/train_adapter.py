"""Fake `python -m examples.train_adapter`: real flags, tqdm-like output, real file names."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser(prog="train_adapter")
    p.add_argument("--train-data", required=True)
    p.add_argument("--eval-data")
    p.add_argument("--epochs", type=int, default=2)
    p.add_argument("--learning-rate", type=float, default=1e-3)
    p.add_argument("--batch-size", type=int, default=4)
    p.add_argument("--max-sequence-length", type=int)
    p.add_argument(
        "--precision", choices=["bf16-mixed", "f16-mixed", "f32", "bf16"], default="bf16-mixed"
    )
    p.add_argument("--checkpoint-dir", required=True)
    args = p.parse_args()
    rows = [
        json.loads(line) for line in Path(args.train_data).read_text().splitlines() if line.strip()
    ]
    for row in rows:  # the real toolkit rejects lines that are not arrays
        if not isinstance(row, list):
            print("ValueError: each line must be a list of messages", file=sys.stderr)
            return 2
    print(f"Loaded {len(rows)} training samples from {args.train_data}", flush=True)
    ckpt = Path(args.checkpoint_dir)
    ckpt.mkdir(parents=True, exist_ok=True)
    steps = max(1, len(rows) // args.batch_size)
    pause = float(os.environ.get("FAKE_TOOLKIT_SLEEP", "0"))  # seconds per step, to test cancel
    for epoch in range(1, args.epochs + 1):
        for step in range(1, steps + 1):
            loss = 2.0 / (epoch + step / steps)
            sys.stdout.write(
                f"\rEpoch {epoch}/{args.epochs}: {100 * step // steps:3d}%|{'#' * step}| {step}/{steps} [loss={loss:.4f}]"
            )
            sys.stdout.flush()
            time.sleep(pause)
        sys.stdout.write("\n")
        print(f"Epoch {epoch} eval loss: {1.5 / epoch:.4f}", flush=True)
        (ckpt / f"adapter-epoch{epoch}.pt").write_bytes(b"fake checkpoint")
        code = int(os.environ.get("FAKE_TOOLKIT_EXIT", "0"))
        if code:
            print("RuntimeError: MPS backend out of memory (fake)", file=sys.stderr, flush=True)
            return code
    (ckpt / "adapter-final.pt").write_bytes(b"fake checkpoint")
    print(f"Saved final adapter to {ckpt / 'adapter-final.pt'}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
