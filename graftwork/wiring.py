"""Composition root: the only place (with commands/) that builds adapters and hands them to
core services. The TUI receives what it needs from here and never imports adapters itself.

Each area adds its own functions under its own heading; keep adapter imports inside functions
so `graftwork --help` and the TUI start fast.
"""

from __future__ import annotations

# ---- ingest ---------------------------------------------------------------------------

# ---- tokenizers, budget, build --------------------------------------------------------

# ---- export ---------------------------------------------------------------------------

# ---- teacher --------------------------------------------------------------------------

# ---- training, sampling ---------------------------------------------------------------
