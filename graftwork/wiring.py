"""Composition root: the only place (with commands/) that builds adapters and hands them to
core services. The TUI receives what it needs from here and never imports adapters itself.

Each area adds its own functions under its own heading; keep adapter imports inside functions
so `graftwork --help` and the TUI start fast.
"""

from __future__ import annotations

# ---- ingest ---------------------------------------------------------------------------

# ---- tokenizers, budget, build --------------------------------------------------------

_COUNTERS: dict = {}


def token_counter(ws):  # -> graftwork.core.tokens.CachingCounter
    """The workspace's token counter (tokenizer from the project config), built once per
    workspace and tokenizer setting; counts are cached in the catalog's token_cache."""
    import threading

    from graftwork.adapters.tokenizers import make_counter
    from graftwork.core.project import load_project

    cfg = load_project(ws).tokenizer
    key = (str(ws.root), cfg.model_dump_json())
    lock = _COUNTERS.setdefault("_lock", threading.Lock())
    with lock:
        if key not in _COUNTERS:
            _COUNTERS[key] = make_counter(cfg, ws.db_path)
        return _COUNTERS[key]


def budget(ws, *, max_tokens: int | None = None, widgets_only: bool = False, job):  # -> StageResult
    """Count every candidate example and write the strategy files (see core/budget.py)."""
    from graftwork.core.budget import run_budget

    return run_budget(ws, token_counter(ws), max_tokens=max_tokens, widgets_only=widgets_only, job=job)


def build(ws, set_name: str, force: bool = False, *, job):  # -> StageResult
    """Build datasets/<set_name> (see core/dataset.py)."""
    from graftwork.core.dataset import build as build_set

    return build_set(ws, set_name, counter=token_counter(ws), force=force, job=job)


# ---- export ---------------------------------------------------------------------------

# ---- teacher --------------------------------------------------------------------------

# ---- training, sampling ---------------------------------------------------------------
