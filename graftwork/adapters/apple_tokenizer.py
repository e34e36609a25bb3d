"""Token counts with Apple's own tokenizer: the SentencePiece model the adapter toolkit ships
(`<toolkit>/assets/tokenizer.model`, with `assets/tokenizer-config.json` beside it) and the
toolkit's chat template (core/apple/chat_template.py). With it, keep/exclude at 4095 is what
the toolkit will see; nothing is downloaded, the user's toolkit folder is only read.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from graftwork.core.apple import chat_template
from graftwork.core.base.errors import ConfigError
from graftwork.core.budget.tokens import TokenCount
from graftwork.core.dataset.examples import Example

TOKENIZER_MODEL = Path("assets") / "tokenizer.model"
TOKENIZER_CONFIG = Path("assets") / "tokenizer-config.json"


def toolkit_tokenizer(toolkit_dir: str | Path | None) -> Path | None:
    """The toolkit's tokenizer model, or None when no toolkit (or no model in it) is there."""
    if not toolkit_dir:
        return None
    path = Path(toolkit_dir).expanduser() / TOKENIZER_MODEL
    return path if path.is_file() else None


def _user_defined_tokens(config: Any) -> Iterator[str]:
    """Every `user_defined_tokens` list anywhere in the toolkit's tokenizer config."""
    if isinstance(config, dict):
        for key, value in config.items():
            if key == "user_defined_tokens" and isinstance(value, list):
                yield from (v for v in value if isinstance(v, str))
            else:
                yield from _user_defined_tokens(value)
    elif isinstance(config, list):
        for value in config:
            yield from _user_defined_tokens(value)


class AppleToolkitBackend:
    """TokenizerBackend for core/budget/tokens.py: exact counts for Apple's toolkit."""

    exact = True

    def __init__(self, toolkit_dir: str | Path) -> None:
        import sentencepiece

        root = Path(toolkit_dir).expanduser()
        model_path = root / TOKENIZER_MODEL
        if not model_path.is_file():
            raise ConfigError(
                f"train.apple.toolkit_dir: {root} has no {TOKENIZER_MODEL} "
                "(the SentencePiece model Apple's toolkit ships in its assets folder)"
            )
        model = model_path.read_bytes()
        config_path = root / TOKENIZER_CONFIG
        config = config_path.read_bytes() if config_path.is_file() else b""
        proc = sentencepiece.SentencePieceProcessor()
        try:
            proc.LoadFromSerializedProto(model)
        except (RuntimeError, OSError) as exc:
            raise ConfigError(f"{model_path}: not a SentencePiece model ({exc})") from None
        extra = self._missing_tokens(proc, config, config_path)
        if extra:
            proc = self._with_tokens(model, extra, model_path)
        self._sp = proc
        digest = hashlib.sha256(model + b"\0" + config + b"\0" + chat_template.TEMPLATE_ID.encode())
        self.id = f"apple:{digest.hexdigest()[:16]}"
        self.label = f"Apple toolkit tokenizer ({model_path}), exact"
        self.path = model_path

    @staticmethod
    def _missing_tokens(proc: Any, config: bytes, config_path: Path) -> list[str]:
        """Tokens the toolkit's config adds to the model (the toolkit's loader adds them too)."""
        if not config:
            return []
        try:
            data = json.loads(config)
        except ValueError as exc:
            raise ConfigError(f"{config_path}: not JSON ({exc})") from None
        wanted = dict.fromkeys(_user_defined_tokens(data))
        return [t for t in wanted if proc.PieceToId(t) == proc.unk_id()]

    @staticmethod
    def _with_tokens(model: bytes, tokens: list[str], model_path: Path) -> Any:
        import sentencepiece
        from sentencepiece import sentencepiece_model_pb2 as pb2

        proto = pb2.ModelProto()
        proto.ParseFromString(model)
        for token in tokens:
            piece = proto.pieces.add()
            piece.piece, piece.score, piece.type = (
                token,
                0.0,
                pb2.ModelProto.SentencePiece.USER_DEFINED,
            )
        proc = sentencepiece.SentencePieceProcessor()
        try:
            proc.LoadFromSerializedProto(proto.SerializeToString())
        except RuntimeError as exc:
            raise ConfigError(f"{model_path}: cannot add the config's tokens ({exc})") from None
        return proc

    # -- TokenizerBackend ------------------------------------------------------------------
    def render(self, example: Example) -> str:
        return chat_template.render(example)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids of texts as the toolkit's tokenizer makes them (newlines as `<n>`)."""
        return self._sp.Encode([chat_template.tokenizer_text(t) for t in texts])

    def count_texts(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self.encode(texts)] if texts else []

    def count_examples(
        self, examples: Sequence[Example], rendered: Sequence[str]
    ) -> list[TokenCount | None]:
        """Exact totals (the toolkit's input length); parts are each text encoded alone, with
        `structure` the rest (turn markers, roles, the tools header)."""
        totals = [chat_template.count_from_ids(ids) for ids in self.encode(rendered)]
        texts: dict[str, int] = {}
        for ex in examples:
            for text in self.part_texts(ex).values():
                texts.setdefault(text, 0)
        keys = list(texts)
        for text, n in zip(keys, self.count_texts(keys), strict=True):
            texts[text] = n
        out: list[TokenCount | None] = []
        for ex, total in zip(examples, totals, strict=True):
            parts = {name: texts[text] for name, text in self.part_texts(ex).items()}
            parts["structure"] = total - sum(parts.values())
            out.append(TokenCount(total, parts))
        return out

    def part_texts(self, example: Example) -> dict[str, str]:
        tools = chat_template.NEWLINE.join(json.dumps(t, ensure_ascii=False) for t in example.tools)
        return {**example.parts(), "tools": tools}
