"""``paused_gc()``: no cyclic garbage collection while a stage builds 100,000s of objects.

Import and build allocate several small containers per record (decoded JSON, examples, lines,
manifest items) and keep most of them to the end. Each allocation burst triggers the cyclic
collector, whose full passes walk everything still alive: on 100,000 records that was 10-20%
of build's CPU, for garbage that is almost never cyclic (reference counting frees the rest as
usual). The collector is turned back on (as it was) when the block ends.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
