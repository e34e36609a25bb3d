import argparse
from pathlib import Path

from tallyho.count import count_file


def main() -> None:
    parser = argparse.ArgumentParser(prog="tallyho")
    parser.add_argument("path", type=Path)
    parser.add_argument("--sort", default="lines", choices=["lines", "words", "todo"])
    parser.add_argument("--top", type=int, default=0)
    args = parser.parse_args()
    rows = [count_file(p) for p in sorted(args.path.rglob("*")) if p.is_file()]
    rows.sort(key=lambda r: r[args.sort], reverse=True)
    for row in rows[: args.top or None]:
        print(f"{row['lines']:6} {row['words']:7} {row['todo']:4}  {row['path']}")
