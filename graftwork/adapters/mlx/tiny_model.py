"""Build a tiny random-weight model folder that `mlx_lm.load` accepts, fully offline.

Files: config.json, model.safetensors (float32), tokenizer.json (byte-level BPE trained here
with the Qwen2 pre-tokenizer, research P7) and tokenizer_config.json with an inline ChatML
chat template that renders `tools`. Used by tests, `graftwork demo` and the benchmark.
"""

from __future__ import annotations

import json
import sysconfig
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

# Qwen2's pre-tokenizer regex. transformers 5 rebuilds exactly this pipeline for
# model_type qwen2 (P7), so training the BPE with it keeps token ids identical.
QWEN2_REGEX = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*"
    r"|\s*[\r\n]+|\s+(?!\S)|\s+"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
ADDED = ["<tool_call>", "</tool_call>", "<tool_response>", "</tool_response>"]

# ChatML in the Qwen2.5 style: tools go into the system turn, tool calls and tool results
# are rendered as tagged JSON.
CHAT_TEMPLATE = (
    "{% if tools %}"
    "<|im_start|>system\n"
    "{% if messages[0].role == 'system' %}{{ messages[0].content }}\n\n{% endif %}"
    "# Tools\n\nYou may call one or more functions. Function signatures:\n<tools>\n"
    "{% for tool in tools %}{{ tool | tojson }}\n{% endfor %}</tools>\n\n"
    "For each call, return a JSON object inside <tool_call></tool_call> tags."
    "<|im_end|>\n"
    "{% elif messages[0].role == 'system' %}"
    "<|im_start|>system\n{{ messages[0].content }}<|im_end|>\n"
    "{% endif %}"
    "{% for message in messages %}"
    "{% if message.role == 'system' %}"
    "{% elif message.role == 'assistant' %}"
    "<|im_start|>assistant\n{% if message.content %}{{ message.content }}{% endif %}"
    "{% for call in message.tool_calls or [] %}"
    "{% set fn = call.function if call.function is defined else call %}"
    '{{ \'\\n\' }}<tool_call>\n{"name": "{{ fn.name }}", "arguments": '
    "{% if fn.arguments is string %}{{ fn.arguments }}{% else %}{{ fn.arguments | tojson }}{% endif %}"
    "}\n</tool_call>"
    "{% endfor %}<|im_end|>\n"
    "{% elif message.role == 'tool' %}"
    "<|im_start|>user\n<tool_response>\n{{ message.content }}\n</tool_response><|im_end|>\n"
    "{% else %}"
    "<|im_start|>{{ message.role }}\n{{ message.content }}<|im_end|>\n"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)

_WORDS_TEXT = (
    "widget render command refresh frequency style color font size width height top left "
    "export const return className div span css styled battery clock weather cpu memory "
    "the a of to and is in it you that for on with as are this be at or from by an"
)
_GENERATED_WORDS = _WORDS_TEXT.split()


def _generated_text(n: int = 4000) -> Iterator[str]:
    """Chat-like text with JSX snippets so common tokens of our data get merges."""
    import random

    rng = random.Random(0)
    for i in range(n):
        words = " ".join(rng.choice(_GENERATED_WORDS) for _ in range(12))
        yield (
            f"<|im_start|>user\nMake a {words} widget number {i}.<|im_end|>\n"
            f'export const command = "date +%H:%M";\nexport const refreshFrequency = {1000 * (i % 7 + 1)};\n'
            f'export const render = ({{ output }}) => <div className="w{i % 13}">{{output}}</div>;\n'
        )


def _stdlib_text(max_bytes: int) -> Iterator[str]:
    """Python stdlib source: real code in a fixed order, so the BPE is reproducible."""
    root = Path(sysconfig.get_paths()["stdlib"])
    total = 0
    for path in sorted(root.glob("*.py")):
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        yield text
        total += len(text)
        if total >= max_bytes:
            return


def _train_tokenizer(vocab: int, dest: Path) -> int:
    from tokenizers import Regex, Tokenizer, decoders, models, normalizers, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    tok.normalizer = normalizers.NFC()
    tok.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(QWEN2_REGEX), "isolated"),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )

    def texts() -> Iterator[str]:
        yield from _generated_text()
        yield from _stdlib_text(1_000_000)

    tok.train_from_iterator(texts(), trainer)
    tok.add_tokens(ADDED)
    tok.save(str(dest / "tokenizer.json"))
    return tok.get_vocab_size()


def _tokenizer_config() -> dict:
    added = {
        str(i): {
            "content": t,
            "special": True,
            "lstrip": False,
            "rstrip": False,
            "normalized": False,
            "single_word": False,
        }
        for i, t in enumerate(SPECIAL)
    }
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "added_tokens_decoder": added,
        "bos_token": None,
        "eos_token": "<|im_end|>",
        "pad_token": "<|endoftext|>",
        "unk_token": None,
        "model_max_length": 32768,
        "clean_up_tokenization_spaces": False,
        "chat_template": CHAT_TEMPLATE,
    }


def build_tiny_model(
    dest: Path,
    *,
    arch: Literal["qwen2", "llama", "mixtral"] = "qwen2",
    hidden: int = 64,
    layers: int = 2,
    vocab: int = 2048,
    seed: int = 0,
) -> Path:
    """Write a tiny model folder to ``dest`` and return it. Takes a few seconds."""
    import mlx.core as mx
    from mlx_lm.utils import save_config, save_model

    if arch not in ("qwen2", "llama", "mixtral"):
        raise ValueError(f"arch must be 'qwen2', 'llama' or 'mixtral', got {arch!r}")
    if hidden % 16:
        raise ValueError(f"hidden must be a multiple of 16 (4 heads of even size), got {hidden}")
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    vocab_size = _train_tokenizer(vocab, dest)
    (dest / "tokenizer_config.json").write_text(
        json.dumps(_tokenizer_config(), indent=2), encoding="utf-8"
    )

    cfg = {
        "model_type": arch,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "intermediate_size": hidden * 4,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "rms_norm_eps": 1e-6,
        "vocab_size": vocab_size,
        "max_position_embeddings": 8192,
        "rope_theta": 10000.0,
        "tie_word_embeddings": True,
        "eos_token_id": SPECIAL.index("<|im_end|>"),
        "torch_dtype": "float32",
    }
    if arch == "mixtral":  # 4 experts, 2 per token: the smallest mixture of experts
        cfg.update(num_local_experts=4, num_experts_per_tok=2)
    if arch == "qwen2":
        from mlx_lm.models import qwen2 as arch_mod
    elif arch == "mixtral":
        from mlx_lm.models import mixtral as arch_mod
    else:
        from mlx_lm.models import llama as arch_mod
    mx.random.seed(seed)
    model = arch_mod.Model(arch_mod.ModelArgs.from_dict(cfg))
    mx.eval(model.parameters())
    save_model(dest, model)
    save_config(cfg, dest / "config.json")
    return dest
