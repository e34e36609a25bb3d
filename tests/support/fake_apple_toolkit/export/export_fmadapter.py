"""Fake `python -m export.export_fmadapter`: checks the name like the runtime, writes a package."""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path


def main() -> int:
    p = argparse.ArgumentParser(prog="export_fmadapter")
    p.add_argument("-n", "--adapter-name", required=True)
    p.add_argument("-c", "--checkpoint", required=True)
    p.add_argument("-o", "--output-dir", required=True)
    p.add_argument("--draft-checkpoint")
    p.add_argument("--author", default="3P developer")
    p.add_argument("--description", default="")
    args = p.parse_args()
    if not re.match(r"^\w+$", args.adapter_name):
        print(f"ValueError: invalid adapter name {args.adapter_name!r}", file=sys.stderr)
        return 2
    if not Path(args.checkpoint).is_file():
        print(f"FileNotFoundError: {args.checkpoint}", file=sys.stderr)
        return 1
    out = Path(args.output_dir) / f"{args.adapter_name}.fmadapter"
    out.mkdir(parents=True, exist_ok=True)
    meta = {
        "adapterIdentifier": f"fmadapter-{args.adapter_name}-9799725",
        "author": args.author,
        "description": args.description,
        "loraRank": 32,
        "baseModelSignature": "9799725ff8e851184037110b422d891ad3b92ec1",
    }
    (out / "metadata.json").write_text(json.dumps(meta, indent=2))
    (out / "adapter_weights.bin").write_bytes(b"\0" * 64)
    print(f"Exported adapter to {out}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
