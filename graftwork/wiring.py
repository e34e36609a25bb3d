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

def train(ws, set_name: str | None, *, overrides: dict, resume: str | None = None,
          drop_long: bool = False, job, config_file=None):  # -> StageResult
    """Train (or resume) a LoRA run in a child process; see graftwork.adapters.mlx.trainer."""
    from graftwork.adapters.mlx.trainer import train as _train

    return _train(ws, set_name, overrides=overrides, resume=resume, drop_long=drop_long, job=job,
                  config_file=config_file)


def build_tiny_model(dest, **kwargs):  # -> Path
    """A tiny random-weight model folder mlx-lm loads offline (demo, tests, benchmark)."""
    from graftwork.adapters.mlx.tiny_model import build_tiny_model as _build

    return _build(dest, **kwargs)


def fuse(ws, run_id: str, *, which: str = "best", out=None):  # -> Path
    """Fuse a run's best or last adapter into its base model (child process)."""
    from graftwork.adapters.mlx.fuse import fuse_run

    return fuse_run(ws, run_id, which=which, out=out)

