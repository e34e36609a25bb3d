"""Budget benchmark: 2,000 generated examples of about 3,000 tokens.

Prints examples/s of the budget's counting (total + per-part breakdown, cold cache) and its
ratio to plain tiktoken `encode_ordinary` of the same example lines in the same run, then the
full `budget` stage cold and warm, and a re-budget after editing one prompt.

Run: .venv/bin/python bench/bench_budget.py [--n 2000]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from support.widget_rows import add_prompt, add_widget

from graftwork.adapters.tokenizers import TiktokenBackend
from graftwork.core.base.jobs import Job
from graftwork.core.base.workspace import Workspace
from graftwork.core.budget.budget import run_budget
from graftwork.core.budget.tokens import CachingCounter
from graftwork.core.dataset.candidates import load_candidates
from graftwork.core.recipes import example_provider

WORDS = [
    "battery",
    "clock",
    "weather",
    "cpu",
    "memory",
    "disk",
    "network",
    "spotify",
    "calendar",
    "todo",
    "moon",
    "tide",
    "stock",
    "uptime",
    "volume",
    "wifi",
    "bluetooth",
    "brightness",
    "github",
    "reddit",
    "quote",
    "news",
    "timer",
    "pomodoro",
]


def widget_code(rng: random.Random, target_lines: int) -> str:
    """Plausible, varied JSX (~11 tokens per line)."""
    out = [
        'import { css } from "uebersicht";',
        f'export const command = "{rng.choice(WORDS)} --json";',
        f"export const refreshFrequency = {rng.randint(1, 600) * 1000};",
    ]
    for i in range(target_lines):
        w1, w2 = rng.choice(WORDS), rng.choice(WORDS)
        kind = i % 4
        if kind == 0:
            out.append(
                f"const {w1}{i} = css`color: #{rng.randrange(16**6):06x}; margin: {rng.randint(0, 40)}px;`;"
            )
        elif kind == 1:
            out.append(
                f"  <div className={{{w1}{i - 1}}}>{w2.title()} {rng.randint(0, 9999)} of {w1}</div>"
            )
        elif kind == 2:
            out.append(
                f'const parse{w2.title()}{i} = (out) => out.split("\\n").map((l) => l.trim());'
            )
        else:
            out.append(
                f"// {w1} {w2}: refresh every {rng.randint(1, 60)}s and show {rng.choice(WORDS)}"
            )
    return "\n".join(out) + "\n"


def make_workspace(root: Path, n: int, seed: int = 1) -> Workspace:
    rng = random.Random(seed)
    ws = Workspace.init(root)
    db = ws.catalog()
    with db.conn:
        for i in range(n):
            wid = f"widget-{i:04d}"
            add_widget(
                db,
                ws,
                wid,
                order=i,
                code=widget_code(rng, rng.randint(105, 160)),
                prompt=f"Create an Übersicht widget that shows {rng.choice(WORDS)} and {rng.choice(WORDS)} "
                f"({i}). The widget should refresh and use React/JSX with Emotion css.",
            )
    db.close()
    return ws


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--hf",
        action="store_true",
        help="also time the HF chat-template tokenizer (a tiny model folder built offline)",
    )
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        ws = make_workspace(Path(tmp) / "ws", args.n)
        print(f"generated {args.n} widgets in {time.perf_counter() - t:.1f} s")
        db = ws.catalog()
        examples = load_candidates(db, example_provider(ws)).examples
        db.close()
        lines = [e.apple_line() for e in examples]
        backend = TiktokenBackend()
        enc = backend._enc
        enc.encode_ordinary("warm up")

        # Alternate plain and ours a few rounds and keep the best of each: this 2-core box is
        # shared, so single timings swing by 2x; CPU time (process_time) is steadier.
        best = {"plain": [1e9, 1e9], "ours": [1e9, 1e9]}
        plain_tokens = 0
        for _ in range(args.rounds):
            w, c = time.perf_counter(), time.process_time()
            plain_tokens = sum(len(enc.encode_ordinary(line)) for line in lines)
            best["plain"] = [
                min(best["plain"][0], time.perf_counter() - w),
                min(best["plain"][1], time.process_time() - c),
            ]
            w, c = time.perf_counter(), time.process_time()
            counts = CachingCounter(backend, None).count_many(examples)  # cold: nothing cached
            best["ours"] = [
                min(best["ours"][0], time.perf_counter() - w),
                min(best["ours"][1], time.process_time() - c),
            ]
            assert sum(x.total for x in counts) == plain_tokens
        mean_tokens = plain_tokens / len(lines)
        (pw, pc), (ow, oc) = best["plain"], best["ours"]
        print(
            f"examples: {len(lines)}, mean {mean_tokens:.0f} tokens, {sum(map(len, lines)) / 1e6:.1f} MB"
        )
        print(
            f"plain tiktoken encode_ordinary: {pw:.2f} s wall ({len(lines) / pw:.0f} examples/s), {pc:.2f} s CPU"
        )
        print(
            f"budget counting, cold (total + 5 parts from one encoding): {ow:.2f} s wall "
            f"({len(lines) / ow:.0f} examples/s), {oc:.2f} s CPU"
        )
        print(f"ratio to plain tiktoken (examples/s): {pw / ow:.2f} wall, {pc / oc:.2f} CPU")

        counter = CachingCounter(backend, ws.db_path)
        t = time.perf_counter()
        run_budget(ws, counter, job=Job(None, "budget"))
        print(
            f"full budget stage, cold SQLite cache (load code + count + write files/table): {time.perf_counter() - t:.2f} s"
        )

        t = time.perf_counter()
        run_budget(ws, counter, job=Job(None, "budget"))
        print(f"full budget stage, warm cache: {time.perf_counter() - t:.2f} s")

        # Edit one prompt, re-budget; a few rounds (a different prompt each time), best kept.
        same, fresh = [1e9, 1e9], [1e9, 1e9]
        res = None
        for r in range(args.rounds):
            for target, label in ((same, "same"), (fresh, "fresh")):
                db = ws.catalog()
                add_prompt(
                    db,
                    examples[10 * r + len(label)].item_id,
                    f"Create an Übersicht widget, edit {r} {label}.",
                )
                db.close()
                use = counter if label == "same" else CachingCounter(TiktokenBackend(), ws.db_path)
                w, c = time.perf_counter(), time.process_time()
                res = run_budget(ws, use, job=Job(None, "budget"))
                target[0] = min(target[0], time.perf_counter() - w)
                target[1] = min(target[1], time.process_time() - c)
        print(
            f"re-budget after editing one prompt: {same[0]:.3f} s wall / {same[1]:.3f} s CPU (same counter, "
            f"as the TUI), {fresh[0]:.3f} s wall / {fresh[1]:.3f} s CPU (new process, SQLite cache); "
            f"keep {res.summary['keep']}, exclude {res.summary['exclude']}"
        )

        if args.hf:
            bench_hf(examples, Path(tmp))


def bench_hf(examples: list, tmp: Path) -> None:
    """HF tokenizer + chat template: budget counting vs mlx-lm's apply_chat_template per example."""
    from graftwork.adapters.mlx.tiny_model import build_tiny_model
    from graftwork.adapters.tokenizers import HFChatBackend, openai_messages, openai_tool

    backend = HFChatBackend(build_tiny_model(tmp / "tiny"))
    tok = backend.tokenizer
    t = time.perf_counter()
    plain = [
        len(tok.apply_chat_template(openai_messages(e), tools=[openai_tool(x) for x in e.tools]))
        for e in examples
    ]
    plain_s = time.perf_counter() - t
    t = time.perf_counter()
    counts = CachingCounter(backend, None).count_many(examples)
    ours = time.perf_counter() - t
    assert [c.total for c in counts] == plain
    print(
        f"hf (tiny qwen2 tokenizer, mean {sum(plain) / len(plain):.0f} tokens): apply_chat_template one by one "
        f"{len(examples) / plain_s:.0f} examples/s; budget counting with parts {len(examples) / ours:.0f} "
        f"examples/s; ratio {plain_s / ours:.2f}"
    )


if __name__ == "__main__":
    main()
