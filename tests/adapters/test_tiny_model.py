"""The tiny offline model loads with mlx-lm, renders chats with tools and runs forward."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from graftwork.adapters.mlx.tiny_model import build_tiny_model

pytestmark = pytest.mark.mlx

TOOLS = [
    {
        "type": "function",
        "function": {"name": "make", "description": "d", "parameters": {"type": "object"}},
    }
]


def test_tiny_model_loads_and_renders_tools(tiny_model_dir: Path) -> None:
    import mlx.core as mx
    from mlx_lm import load

    model, tok = load(str(tiny_model_dir))
    assert tok.eos_token_ids == {2}
    messages = [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "A clock widget"},
        {"role": "assistant", "content": "export const command = 'date';"},
    ]
    text = tok.apply_chat_template(messages, tools=TOOLS, tokenize=False)
    assert "<tools>\n" in text and '"name": "make"' in text
    assert text.startswith("<|im_start|>system\nBe brief.\n\n# Tools")
    assert text.endswith("<|im_start|>assistant\nexport const command = 'date';<|im_end|>\n")
    ids = tok.apply_chat_template(messages, tools=TOOLS)
    assert tok.decode(ids) == text  # byte-level BPE round-trips exactly
    logits = model(mx.array([ids]))
    assert logits.shape == (
        1,
        len(ids),
        json.loads((tiny_model_dir / "config.json").read_text())["vocab_size"],
    )
    assert logits.dtype == mx.float32


def test_build_is_fast_and_deterministic(tmp_path: Path, tiny_model_dir: Path) -> None:
    t0 = time.perf_counter()
    again = build_tiny_model(tmp_path / "again")
    assert time.perf_counter() - t0 < 20  # a few seconds; generous for a loaded 2-core box
    for name in ("tokenizer.json", "model.safetensors", "config.json"):
        assert (again / name).read_bytes() == (tiny_model_dir / name).read_bytes(), name


def test_llama_arch_and_bad_arch(tmp_path: Path) -> None:
    from mlx_lm import load

    path = build_tiny_model(tmp_path / "llama", arch="llama", hidden=32, layers=1)
    model, _ = load(str(path))
    assert len(model.layers) == 1
    with pytest.raises(ValueError, match="arch"):
        build_tiny_model(tmp_path / "bad", arch="gpt9")  # type: ignore[arg-type]
