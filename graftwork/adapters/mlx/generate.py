"""Generate with the base model and with base + adapter, in a spawned child process.

Why a child: MLX used from a worker thread can abort the interpreter at exit (P4), and mlx-lm
prints to stdout (P9). The parent (any thread) writes one JSON request to the child's stdin
and reads JSON lines back from a private pipe; library output goes to the child's stderr.

Every prompt is generated twice, base first (then the base model is freed, so only one copy
is ever in memory) and then with the adapter, each time after ``mx.random.seed(seed)``: the
same seed, temperature and max tokens give the same text for the same model.

With a ``loss`` request (evaluation), each loaded model first scores the given chat records
with mlx-lm's own evaluation (`mlx_lm.tuner.trainer.evaluate`, the loss training reports):
{"type": "loss", "which", "loss", "tokens", "examples", "ms", "peak_memory_gb"}.

Events (one JSON object per line): {"type": "loaded", "which", "ms"},
{"type": "sample", "key", "which": "base"|"adapter", "text", "ms", "tokens", "finish_reason"},
{"type": "error", "message"}, {"type": "finished"}.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from typing import Any

from graftwork.core.base.errors import GraftworkError


class GenerationError(GraftworkError):
    """The generation child failed (bad model, adapter, or crash)."""


# ---- parent side (never imports mlx) -----------------------------------------------------


def run_generation(
    model: str,
    adapter_path: str | None,
    prompts: list[dict[str, Any]],
    *,
    seed: int,
    temperature: float,
    max_tokens: int,
    on_event: Callable[[dict[str, Any]], None],
    should_stop: Callable[[], bool] = lambda: False,
    adapter_only: bool = False,
    stream: bool = False,
    loss: dict[str, Any] | None = None,
    skip: dict[str, list[str]] | None = None,
) -> None:
    """Run the child; call ``on_event`` in this thread for each event. Raises GenerationError.

    ``prompts``: [{"key": str, "messages": [...] (without the answer), "tools": [...]|None}].
    ``adapter_only``: skip the base model. ``stream``: also {"type": "token", "key", "which",
    "text"} events as the text grows. ``loss``: {"records": [mlx chat records with their
    answers], "mask_prompt": bool, "max_seq_length": int, "skip": [models]}: a "loss" event
    per model first, except the models in "skip". ``skip``: model -> prompt keys it already
    answered (a resumed evaluation); a model with nothing left to do is never loaded.
    """
    request = {
        "model": model,
        "adapter_path": adapter_path,
        "prompts": prompts,
        "seed": seed,
        "temperature": temperature,
        "max_tokens": max_tokens,
        "adapter_only": adapter_only,
        "stream": stream,
        "loss": loss,
        "skip": skip or {},
    }
    from graftwork.adapters.mlx.trainer import child_env  # offline hub, OpenBLAS preload (P1, P15)

    read_fd, write_fd = os.pipe()
    env = child_env({"GRAFTWORK_EVENTS_FD": str(write_fd), "PYTHONUNBUFFERED": "1"})
    with tempfile.TemporaryFile() as stderr_file:
        proc = subprocess.Popen(
            [sys.executable, "-m", "graftwork.adapters.mlx.generate"],
            stdin=subprocess.PIPE,
            stdout=stderr_file,
            stderr=stderr_file,
            env=env,
            pass_fds=(write_fd,),
        )
        os.close(write_fd)
        assert proc.stdin is not None
        # Writing the request from a thread: a large request must not block reading events.
        threading.Thread(target=_write_request, args=(proc.stdin, request), daemon=True).start()
        error: str | None = None
        try:
            with os.fdopen(read_fd, encoding="utf-8") as events:
                for line in events:
                    if should_stop():
                        break
                    try:
                        event = json.loads(line)
                    except ValueError:
                        continue
                    if event.get("type") == "error":
                        error = event.get("message") or "unknown error"
                    else:
                        on_event(event)
        except BaseException:
            proc.kill()  # on_event raised or Ctrl-C: the child's work is not wanted
            proc.wait()
            raise
        if should_stop() and proc.poll() is None:
            proc.kill()
        code = proc.wait()
        if should_stop():
            return
        if error or code != 0:
            stderr_file.seek(0)
            tail = stderr_file.read().decode("utf-8", "replace").strip().splitlines()[-5:]
            detail = error or f"exit code {code}"
            raise GenerationError(
                f"generation failed: {detail}"
                + ("\n" + "\n".join(tail) if tail and not error else "")
            )


def _write_request(stdin: Any, request: dict[str, Any]) -> None:
    try:
        stdin.write(json.dumps(request).encode("utf-8"))
        stdin.close()
    except (BrokenPipeError, OSError):
        pass  # the child died early; its exit code tells the story


# ---- child side ----------------------------------------------------------------------------


def _generate_all(request: dict[str, Any], emit: Callable[..., None]) -> None:
    import mlx.core as mx
    from mlx_lm import load, stream_generate
    from mlx_lm.sample_utils import make_sampler

    sampler = make_sampler(temp=float(request["temperature"]))
    phases = [] if request.get("adapter_only") else [("base", None)]
    if request.get("adapter_path"):
        phases.append(("adapter", request["adapter_path"]))
    stream = bool(request.get("stream"))
    loss = request.get("loss") or {}
    for which, adapter in phases:
        done = set((request.get("skip") or {}).get(which) or ())
        prompts = [p for p in request["prompts"] if p["key"] not in done]
        wants_loss = bool(loss.get("records")) and which not in (loss.get("skip") or ())
        if not prompts and not wants_loss:
            continue  # everything of this model is known already (a resumed evaluation)
        t0 = time.perf_counter()
        model, tokenizer = load(request["model"], adapter_path=adapter)
        if not mx.metal.is_available():
            model.set_dtype(
                mx.float32
            )  # as in training: bf16/4-bit matmuls skip BLAS on the CPU (P1b)
        emit("loaded", which=which, ms=(time.perf_counter() - t0) * 1000)
        if wants_loss:
            emit("loss", which=which, **_score_loss(model, tokenizer, loss, request))
        for prompt in prompts:
            text = tokenizer.apply_chat_template(
                prompt["messages"],
                tools=prompt.get("tools"),
                add_generation_prompt=True,
                tokenize=False,
            )
            mx.random.seed(int(request["seed"]))  # per prompt: order never changes an output
            t0 = time.perf_counter()
            parts: list[str] = []
            last = None
            for last in stream_generate(
                model, tokenizer, text, max_tokens=int(request["max_tokens"]), sampler=sampler
            ):
                parts.append(last.text)
                if stream and last.text:
                    emit("token", key=prompt["key"], which=which, text=last.text)
            emit(
                "sample",
                key=prompt["key"],
                which=which,
                text="".join(parts),
                ms=(time.perf_counter() - t0) * 1000,
                tokens=last.generation_tokens if last else 0,
                finish_reason=last.finish_reason if last else None,
            )
        del model, tokenizer
        mx.clear_cache()


def _score_loss(
    model: Any, tokenizer: Any, spec: dict[str, Any], request: dict[str, Any]
) -> dict[str, Any]:
    """Token-weighted mean loss over the records, computed by mlx-lm's `evaluate` (batch size
    1, so every record counts and nothing is padded), with the loss it uses in training."""
    import mlx.core as mx
    import numpy as np
    from mlx_lm.tuner.datasets import CacheDataset, ChatDataset
    from mlx_lm.tuner.trainer import default_loss, evaluate

    records = spec["records"]
    dataset = CacheDataset(ChatDataset(records, tokenizer, mask_prompt=bool(spec["mask_prompt"])))
    tokens = 0

    def counted_loss(model: Any, batch: Any, lengths: Any) -> Any:
        nonlocal tokens
        value, toks = default_loss(model, batch, lengths)
        tokens += int(toks.item())
        return value, toks

    np.random.seed(int(request["seed"]))  # evaluate's batch order; the mean does not depend on it
    mx.reset_peak_memory()
    t0 = time.perf_counter()
    value = evaluate(
        model,
        dataset,
        batch_size=1,
        num_batches=-1,
        max_seq_length=int(spec["max_seq_length"]),
        loss=counted_loss,
    )
    return {
        "loss": float(value),
        "tokens": tokens,
        "examples": len(records),
        "ms": (time.perf_counter() - t0) * 1000,
        "peak_memory_gb": mx.get_peak_memory() / 1e9,
    }


def _child_main() -> int:
    events = os.fdopen(int(os.environ["GRAFTWORK_EVENTS_FD"]), "w", encoding="utf-8", buffering=1)

    def emit(type_: str, **fields: Any) -> None:
        events.write(json.dumps({"type": type_, **fields}, ensure_ascii=False) + "\n")

    try:
        request = json.loads(sys.stdin.read())
        _generate_all(request, emit)
    except Exception as exc:  # reported to the parent as an event, not a traceback on a pipe
        emit("error", message=f"{type(exc).__name__}: {exc}")
        return 1
    emit("finished")
    events.flush()
    return 0


if __name__ == "__main__":
    sys.exit(_child_main())
