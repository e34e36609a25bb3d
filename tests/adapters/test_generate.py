"""Real generation on the tiny model in a child process: base and base + a real LoRA adapter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import review_world

from graftwork.adapters.mlx.generate import GenerationError, run_generation

review_model_dir = review_world.review_model_dir  # session fixtures
tiny_adapter_dir = review_world.tiny_adapter_dir

pytestmark = pytest.mark.mlx

MAX_TOKENS = 12
PROMPTS = [
    {
        "key": "a",
        "messages": [
            {"role": "system", "content": "You write widgets."},
            {"role": "user", "content": "Widget 1"},
        ],
    },
    {
        "key": "b",
        "messages": [
            {"role": "system", "content": "You write widgets."},
            {"role": "user", "content": "A clock"},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "create_widget",
                    "description": "d",
                    "parameters": {"type": "object", "properties": {}},
                },
            }
        ],
    },
]


def _generate(model: Path, adapter: Path | None, seed: int, temperature: float = 0.8) -> list[dict]:
    events: list[dict] = []
    run_generation(
        str(model),
        str(adapter) if adapter else None,
        PROMPTS,
        seed=seed,
        temperature=temperature,
        max_tokens=MAX_TOKENS,
        on_event=events.append,
    )
    return events


def _texts(events: list[dict], which: str) -> dict[str, str]:
    return {e["key"]: e["text"] for e in events if e["type"] == "sample" and e["which"] == which}


def test_base_and_adapter_outputs_same_seed_same_text(
    review_model_dir: Path, tiny_adapter_dir: Path
) -> None:
    first = _generate(review_model_dir, tiny_adapter_dir, seed=3)
    assert first[0]["type"] == "loaded" and first[-1]["type"] == "finished"
    base, adapter = _texts(first, "base"), _texts(first, "adapter")
    assert set(base) == set(adapter) == {"a", "b"}
    assert all(e["tokens"] >= 1 and e["ms"] > 0 for e in first if e["type"] == "sample")
    assert base != adapter  # the adapter changes what the model writes
    again = _generate(review_model_dir, tiny_adapter_dir, seed=3)
    assert _texts(again, "base") == base and _texts(again, "adapter") == adapter
    other = _generate(review_model_dir, None, seed=4)
    assert _texts(other, "base") != base  # a different seed samples differently at temperature 0.8
    assert not _texts(other, "adapter")


def test_greedy_adapter_writes_what_it_was_trained_on(
    review_model_dir: Path, tiny_adapter_dir: Path
) -> None:
    # The fixture trains until every answer token, <|im_end|> included, is the argmax after its
    # prompt by a margin (teacher-forced), so greedy decoding must write exactly the answer and
    # stop. Checked here: our child loads the adapter, renders the chat template and decodes the
    # way the adapter was trained, and the base model alone does not write the answer.
    trained = json.loads(
        (tiny_adapter_dir.parent / "adapter-training.json").read_text(encoding="utf-8")
    )
    assert trained["margin"] >= review_world.MIN_MARGIN
    assert trained["answer_tokens"] <= MAX_TOKENS  # the answer and its <|im_end|> fit in one sample
    events = _generate(review_model_dir, tiny_adapter_dir, seed=0, temperature=0.0)
    adapter = {e["key"]: e for e in events if e["type"] == "sample" and e["which"] == "adapter"}
    assert adapter["a"]["text"] == review_world.TRAINED_ANSWER
    assert adapter["a"]["finish_reason"] == "stop"  # it learned to end there, too
    assert _texts(events, "base")["a"] != review_world.TRAINED_ANSWER  # random weights write noise
    again = _generate(review_model_dir, tiny_adapter_dir, seed=7, temperature=0.0)
    assert _texts(again, "adapter") == _texts(events, "adapter")  # greedy ignores the seed


def test_missing_adapter_is_a_clear_error(review_model_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(GenerationError, match="generation failed"):
        _generate(review_model_dir, tmp_path / "no-adapter", seed=0)
