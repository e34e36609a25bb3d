"""The lines `build` writes for the Übersicht recipe never change unnoticed.

GOLDEN was computed on main at b88a6cd, before the stage registry and recipes existed, by
running the demo's stages up to build (ingest, analyze, prompts import, prompts draft,
budget, build --set demo --force) in a fresh demo workspace with the then-current
`graftwork.commands.run.run_stages`, then hashing the set's lines like `_set_hash` below:
sha256 of the lines of train/valid/test.jsonl, sorted, joined by "\\n" (7 lines). A change to
any prompt, the system prompt, the tool, the code concatenation or the JSON layout shows here.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from graftwork.commands.demo import demo_steps
from graftwork.commands.run import run_steps
from graftwork.core import demo

GOLDEN = "5e7bc3189326d4a2173acb73ca05cde1d35079f6f3707df470b5fe3a7886577c"
GOLDEN_LINES = 7


def _set_lines(folder: Path) -> list[str]:
    return sorted(
        line
        for split in ("train", "valid", "test")
        for line in (folder / f"{split}.jsonl").read_text(encoding="utf-8").splitlines()
    )


def test_the_demo_set_is_byte_identical_to_before_the_registry(tmp_path: Path) -> None:
    plan = demo.prepare(tmp_path / "ws")
    steps = demo_steps(plan)
    upto_build = steps[: [s.stage for s in steps].index("build") + 1]
    run_steps(plan.ws, upto_build)
    lines = _set_lines(plan.ws.datasets_dir / demo.SET_NAME)
    assert len(lines) == GOLDEN_LINES
    assert hashlib.sha256("\n".join(lines).encode()).hexdigest() == GOLDEN
