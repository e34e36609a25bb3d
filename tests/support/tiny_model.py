"""Session-scoped tiny offline model for any test that needs real mlx (training, sampling).

Use from a conftest.py: ``from support.tiny_model import tiny_model_dir  # noqa: F401``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A qwen2-style model with random float32 weights and a BPE trained on the spot."""
    from graftwork.adapters.mlx.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny-qwen2")


SYSTEM = "You write tiny widgets."
TOOL = {
    "type": "function",
    "function": {
        "name": "create_widget",
        "description": "Create a widget.",
        "arguments": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
            "required": ["name"],
        },
    },
}
COLORS = ["red", "blue", "green", "gold", "pink", "gray", "teal", "navy"]


def apple_line(user: str, assistant: str) -> str:
    import json

    return json.dumps(
        [
            {"role": "system", "content": SYSTEM, "tools": [TOOL]},
            {"role": "user", "content": user},
            {"role": "assistant", "content": assistant},
        ],
        ensure_ascii=False,
    )


def write_tiny_set(
    datasets_dir: Path,
    name: str = "tiny",
    *,
    n_train: int = 32,
    n_valid: int = 8,
    n_test: int = 4,
    long_lines: dict[str, int] | None = None,
    mixed: bool = False,
) -> Path:
    """A built set in Apple's schema (datasets/NAME/{train,valid,test}.jsonl + manifest.json):
    repetitive color widgets, easy to learn. ``long_lines`` {split: count} appends very long
    examples; ``mixed`` makes every fourth answer about 10x longer (for bucketing)."""
    import hashlib
    import json

    folder = datasets_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    counts = {"train": n_train, "valid": n_valid, "test": n_test}
    for split, n in counts.items():
        lines = []
        for i in range(n):
            color = COLORS[i % len(COLORS)]
            answer = (
                f"export const render = () => <div style={{{{color: '{color}'}}}}>{color}</div>;"
            )
            if mixed and i % 4 == 0:
                answer = "\n".join([answer] * 10)
            lines.append(apple_line(f"Make a {color} widget.", answer))
        for j in range((long_lines or {}).get(split, 0)):
            lines.append(
                apple_line(f"Make a huge widget {j}.", " ".join(["<div>huge</div>"] * 400))
            )
        for k, line in enumerate(lines):
            items.append(
                {
                    "id": f"{split}-{k}",
                    "split": split,
                    "example_sha256": hashlib.sha256(line.encode()).hexdigest(),
                }
            )
        (folder / f"{split}.jsonl").write_text(
            "".join(line + "\n" for line in lines), encoding="utf-8"
        )
    (folder / "manifest.json").write_text(json.dumps({"name": name, "items": items}, indent=1))
    return folder


def wait_for_training(runs_dir: Path, timeout: float = 300) -> Path:
    """The metrics.jsonl of the first run under ``runs_dir`` once it reported a train step."""
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        metrics = list(runs_dir.glob("*/metrics.jsonl"))
        if metrics and '"train"' in metrics[0].read_text():
            return metrics[0]
        time.sleep(0.1)
    raise AssertionError("training never reported")
