"""A stand-in for Apple's tokenizer: a small SentencePiece model trained here, offline, on text
we write (Apple's model may not be redistributed), laid out the way the toolkit ships its own
(`<toolkit>/assets/tokenizer.model`) inside a copy of our fake toolkit."""

from __future__ import annotations

import functools
import io
import shutil
from pathlib import Path

FAKE_TOOLKIT = Path(__file__).resolve().parent / "fake_apple_toolkit"

# Widget-ish text so the model has real merges for code and prose.
_CORPUS = [
    "Create an Übersicht widget that shows the current time in large digits.",
    "export const command = 'date +%H:%M'; export const refreshFrequency = 1000;",
    "export const render = ({ output }) => <div className='clock'>{output}</div>;",
    "A conversation between a user and a helpful assistant.",
    "You write Übersicht widgets in JSX. Answer with the complete widget code only.",
    'system tools: {"type": "function", "function": {"name": "write_widget"}}',
    "Show CPU load, memory use and battery level in a small bar at the top of the screen.",
    "const style = { position: 'absolute', top: 20, left: 20, color: '#fff' };",
    "import { css } from 'uebersicht'; export const className = css`font-size: 12px;`",
    "Weather for the next three days with icons, temperature and wind speed.",
]


@functools.lru_cache(maxsize=1)
def tokenizer_model_bytes() -> bytes:
    """The serialized model (trained once per test process, well under a second)."""
    import sentencepiece as spm

    out = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(_CORPUS * 20),
        model_writer=out,
        vocab_size=600,
        hard_vocab_limit=False,  # the corpus is small: take the merges it has
        model_type="bpe",
        user_defined_symbols=["<turn_start>", "<turn_end>", "<n>"],
        byte_fallback=True,  # any character can be encoded, as in Apple's model
        character_coverage=1.0,
        bos_id=-1,
        eos_id=2,
        unk_id=0,
        pad_id=1,
        num_threads=1,
        minloglevel=2,
    )
    return out.getvalue()


def make_toolkit(root: Path, *, config: str | None = None) -> Path:
    """A copy of the fake toolkit with assets/tokenizer.model (and, given, the config JSON)."""
    shutil.copytree(FAKE_TOOLKIT, root, ignore=shutil.ignore_patterns("__pycache__"))
    assets = root / "assets"
    assets.mkdir()
    (assets / "tokenizer.model").write_bytes(tokenizer_model_bytes())
    if config is not None:
        (assets / "tokenizer-config.json").write_text(config, encoding="utf-8")
    return root


def encode(text: str) -> list[int]:
    """sentencepiece's own encoding of ``text`` with the stand-in model."""
    import sentencepiece as spm

    proc = spm.SentencePieceProcessor(model_proto=tokenizer_model_bytes())
    return proc.encode(text)
