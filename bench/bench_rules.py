"""Rule-generated data benchmark (issue 13).

1. buckets: the seed's six buckets at the seed's targets (10,000 / 2,000 / 5,000 / 3,000 /
   2,000 / 1,000 = 23,000 records) from a spec with generated value lists; generate, write,
   then validate every file with tiktoken (target < 10 s in all).
2. the same files validated with a local Hugging Face tokenizer (a byte-level BPE trained
   here), against that tokenizer's own encode_batch of the same texts (target ratio >= 0.8).
3. templates: 100,000 Alpaca records (schema-checked) over a generated word list (< 10 s).

Run: .venv/bin/python bench/bench_rules.py
"""

from __future__ import annotations

import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from graftwork.adapters.rule_tokenizers import HFTokenizer, TiktokenCounter
from graftwork.core.rules.alpaca import generate_alpaca, load_templates
from graftwork.core.rules.buckets import generate, load_buckets
from graftwork.core.rules.validate import _text, validate_files

SYL = ["ka", "lo", "mi", "ne", "ru", "sa", "ti", "vo", "ze", "pa", "do", "fe", "gu", "hi", "ja"]


def _values(prefix: str, n: int) -> list[str]:
    return [f"{prefix}{i}" for i in range(n)]


def bucket_spec(root: Path) -> Path:
    (root / "paths.txt").write_text(
        "\n".join(f"src/mod{i}/file{j}.py" for i in range(60) for j in range(40)) + "\n"
    )
    spec = {
        "dataset": {"name": "bench"},
        "seed": 1,
        "variables": {
            "path": {"file": "paths.txt"},
            "polite": ["Please", "Could you", "Can you", "I need you to", "Kindly"],
            "folder": _values("pkg/dir", 300),
            "command": [f"make target{i}" for i in range(300)],
        },
        "tags": {"project": _values("project-", 20)},
        "categories": {
            "tool_core": {
                "count": 10000,
                "responder": "tool_call",
                "input": "Project: {{ project }}",
                "templates": [
                    {
                        "tool": "read_file",
                        "text": "{{ polite }} read {{ path }}.",
                        "arguments": {"filepath": "{{ path }}"},
                    },
                    {
                        "tool": "ls",
                        "text": "{{ polite }} list {{ folder }}.",
                        "arguments": {"dirPath": "{{ folder }}"},
                    },
                    {
                        "tool": "run_terminal_command",
                        "text": "{{ polite }} run {{ command }}.",
                        "arguments": {"command": "{{ command }}"},
                    },
                ],
            },
            "tool_neg": {
                "count": 2000,
                "responder": "tool_neg",
                "input": "Project: {{ project }}",
                "templates": [
                    {
                        "tool": "read_file",
                        "text": "{{ polite }} open {{ path }} for me.",
                        "arguments": {"filepath": "{{ path }}"},
                    }
                ],
            },
            **{
                name: {
                    "count": count,
                    "input": "Project: {{ project }}",
                    "templates": [
                        {
                            "text": f"{{{{ polite }}}} {verb} {{{{ path }}}}.",
                            "output": f"{verb.capitalize()} {{{{ path }}}}: keep it typed, small "
                            "and tested; explain each change in one line.",
                        }
                    ],
                }
                for name, count, verb in (
                    ("style_core", 5000, "write a helper in"),
                    ("style_refactor", 3000, "refactor"),
                    ("guardrail", 2000, "delete everything around"),
                    ("eval", 1000, "explain"),
                )
            },
        },
    }
    path = root / "spec.yaml"
    path.write_text(json.dumps(spec))  # JSON is YAML
    return path


def bench_buckets(root: Path) -> list[Path]:
    t0 = time.perf_counter()
    loaded, tools = load_buckets(bucket_spec(root))
    gen = generate(loaded, tools)
    files = []
    for bucket, records in gen.records.items():
        path = root / gen.files[bucket]
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        files.append(path)
    t1 = time.perf_counter()
    report = validate_files(files, encoder=TiktokenCounter())
    t2 = time.perf_counter()
    print(
        f"buckets: {report.records} records ({dict((b, m) for b, (m, _t) in gen.counts.items())})"
        f" generated+written {t1 - t0:.2f}s, validated (tiktoken) {t2 - t1:.2f}s,"
        f" total {t2 - t0:.2f}s (target < 10 s); ok={report.ok}"
    )
    return files


def bench_hf(root: Path, files: list[Path]) -> None:
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    texts = [_text(json.loads(line)) for f in files for line in f.read_text().splitlines()]
    tok.train_from_iterator(
        texts[:2000],
        trainers.BpeTrainer(vocab_size=2000, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()),
    )
    folder = root / "tok"
    folder.mkdir()
    tok.save(str(folder / "tokenizer.json"))
    enc = HFTokenizer(folder)
    # best of 3 each: the Rust tokenizer runs on two threads, so a loaded box's scheduling
    # shows in single runs
    own, own_cpu = _best(lambda: tok.encode_batch(texts, add_special_tokens=False))
    fast, _ = _best(lambda: tok.encode_batch_fast(texts, add_special_tokens=False))
    ours, ours_cpu = _best(lambda: validate_files(files, rules=["tokens"], encoder=enc))
    records = len(texts)
    print(
        f"hf tokens rule: {records} records (read, parsed, counted) in {ours:.2f}s "
        f"(CPU {ours_cpu:.2f}s); the tokenizer's own encode_batch of the same texts {own:.2f}s "
        f"(CPU {own_cpu:.2f}s), encode_batch_fast {fast:.2f}s; ratio {own / ours:.2f} "
        f"(target >= 0.8), {fast / ours:.2f} against encode_batch_fast"
    )


def _best(fn, n: int = 3) -> tuple[float, float]:
    wall = cpu = float("inf")
    for _ in range(n):
        c, t = time.process_time(), time.perf_counter()
        fn()
        wall, cpu = min(wall, time.perf_counter() - t), min(cpu, time.process_time() - c)
    return wall, cpu


def bench_templates(root: Path) -> None:
    words = ["".join(p) for p in itertools.product(SYL, repeat=4)][:40000]
    (root / "words.txt").write_text("\n".join(words) + "\n")
    (root / "t.yaml").write_text(
        "dataset: {name: tb}\nvariables: {word: {file: words.txt}}\n"
        "tags: {template_style: [simple, playful], separator_style: [space, comma, dash]}\n"
        "categories:\n"
        "  spelling_first: {count: 40000, templates: ['The letters {{ word | separated(separator_style) }} spell what word?']}\n"
        "  word_first: {count: 40000, output: '{{ word | separated(separator_style) }}',"
        " templates: ['Spell {{ word }} letter by letter.']}\n"
        "  word_length: {count: 20000, output: '{{ word | length }}',"
        " templates: ['How many letters does {{ word }} have?']}\n"
    )
    t0, c0 = time.perf_counter(), time.process_time()
    made = generate_alpaca(*load_templates(root / "t.yaml"))
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in made.records)
    (root / "out.jsonl").write_text(text)
    dt, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"templates: {len(made.records)} records, schema-checked and written in {dt:.2f}s "
        f"(target < 10 s; CPU {cpu:.2f}s, what a machine to itself would see)"
    )


def main() -> int:
    print(f"{os.cpu_count()} CPU(s), load average {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        files = bench_buckets(root)
        bench_hf(root, files)
        bench_templates(root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
