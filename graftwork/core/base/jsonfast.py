"""``dumps(obj)``: exactly ``json.dumps(obj, ensure_ascii=False)``, without its set-up per call.

``json.dumps`` (and ``JSONEncoder.encode``) build a new C encoder object on every call; for
the 100,000s of small values that import and build encode (a record's messages, its meta, a
manifest item) that set-up costs about as much as the encoding. Here the C encoder is built
once. It skips the circular-reference check (our values come from JSON or are plain trees; a
cycle still ends in RecursionError instead of looping). Where the interpreter has no C
accelerator, ``dumps`` is the plain encoder's ``encode``.
"""

from __future__ import annotations

import json
from json import encoder as _encoder
from typing import Any


def _default(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _make() -> Any:
    make = getattr(_encoder, "c_make_encoder", None)
    if make is None:  # pragma: no cover - CPython always has it
        return json.JSONEncoder(ensure_ascii=False).encode
    # (markers, default, encoder, indent, key_separator, item_separator, sort_keys,
    # skipkeys, allow_nan): json.dumps' defaults with ensure_ascii=False, same on 3.11-3.13
    iterencode = make(
        None, _default, _encoder.encode_basestring, None, ": ", ", ", False, False, True
    )
    join = "".join

    def dumps(value: Any) -> str:
        return join(iterencode(value, 0))

    return dumps


dumps = _make()
