"""Tokenizers for `graftwork validate` and the templates recipe's word filter
(core/rules/validate.Encoder): a local Hugging Face tokenizer folder read with `tokenizers`
(encode/decode for the round-trip and unknown-token rules), or the bundled tiktoken
cl100k_base (counts only)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from graftwork.core.rules.validate import ValidateError


class TokenizerError(ValidateError):
    """A tokenizer folder that is missing or broken (exit code 2)."""


class HFTokenizer:
    """A local Hugging Face tokenizer folder (tokenizer.json), read with `tokenizers`."""

    def __init__(self, folder: Path) -> None:
        path = folder / "tokenizer.json" if folder.is_dir() else folder
        if not path.is_file():
            raise TokenizerError(
                f"{folder}: no tokenizer.json (give a Hugging Face tokenizer folder)"
            )
        try:
            from tokenizers import Tokenizer

            self.tok = Tokenizer.from_file(str(path))
        except Exception as exc:  # tokenizers raises plain Exception for a broken file
            raise TokenizerError(
                f"{path}: not a usable tokenizer: {str(exc).splitlines()[0]}"
            ) from None
        self.id = f"hf:{folder}"
        model = json.loads(path.read_text(encoding="utf-8")).get("model", {})
        unk = model.get("unk_token")
        self.unk_id = self.tok.token_to_id(unk) if isinstance(unk, str) else None

    def _batch(self, texts: Sequence[str]) -> list[Any]:
        # encode_batch_fast: the same ids without character offsets, which no rule reads
        fast = getattr(self.tok, "encode_batch_fast", self.tok.encode_batch)
        return fast(list(texts), add_special_tokens=False)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return [e.ids for e in self._batch(texts)]

    def count(self, texts: Sequence[str]) -> list[int]:
        return [len(e) for e in self._batch(texts)]  # len of an Encoding: no id list built

    def decode(self, ids: list[list[int]]) -> list[str]:
        return self.tok.decode_batch(ids, skip_special_tokens=False)


class TiktokenCounter:
    def __init__(self) -> None:
        from graftwork.adapters.tokenizers import TiktokenBackend

        self.backend = TiktokenBackend("cl100k_base")
        self.id = self.backend.id
        self.unk_id = None

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        return self.backend._encode(texts)

    def count(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.backend._encode(texts)]

    def decode(self, ids: list[list[int]]) -> list[str]:
        return [self.backend._enc.decode(i) for i in ids]


def open_encoder(folder: Path | None) -> HFTokenizer | TiktokenCounter:
    return HFTokenizer(Path(folder)) if folder is not None else TiktokenCounter()
