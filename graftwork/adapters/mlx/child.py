"""The training child process: `python -m graftwork.adapters.mlx.child SPEC_JSON EVENTS_FD`.

It loads the model, measures every example, adds LoRA layers and drives
`mlx_lm.tuner.trainer.train` with a callback (never `lora.run`, which drops callbacks, P8).
Events go as JSON lines to EVENTS_FD only; stdout/stderr (library noise, ANSI) go to the log
file the parent gave us.

Cancellation has two speeds (the parent, adapters/mlx/trainer.py, escalates from one to the
other so a cancel takes effect within 2 s):
- soft: the cancel file, SIGINT or the parent dying. While the model loads and the data is
  measured there is nothing to save, so the child ends at once. While training, it stops at the
  next safe point (before the next batch, before the next validation batch) and writes a
  checkpoint of exactly the iterations trained.
- hard: SIGTERM. The child ends where it is without a checkpoint (the run resumes from the last
  one), except inside a checkpoint write, which finishes first. Checkpoint folders are replaced
  whole (core/base/atomic.staged_dir), so even SIGKILL never leaves a half-written one.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import platform
import signal
import sys
import threading
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

from graftwork.core.base.atomic import staged_dir, write_json
from graftwork.core.train import lengths
from graftwork.core.train.config import TrainConfig
from graftwork.core.train.events import encode, make_event

# mlx-lm's train() saves the final weights to a file of its own; it goes here, beside the
# checkpoint folders (never into one), and is deleted after train() (by the parent if killed).
MLX_LM_SCRATCH = ".mlx-lm-final.safetensors"


class CancelRequested(Exception):
    """Raised inside train() to stop it; the run then saves a checkpoint."""


def _clean(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in fields.items()
    }


class Emitter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, type_: str, **fields: Any) -> None:
        self.stream.write(encode(make_event(type_, **_clean(fields))) + "\n")
        self.stream.flush()

    def last_word(self, type_: str, **fields: Any) -> None:
        """One event written straight to the pipe, for a signal handler that may have
        interrupted a write of the stream: the leading newline ends a cut line (the parent
        skips it) so this one reads whole."""
        line = "\n" + encode(make_event(type_, **_clean(fields))) + "\n"
        os.write(self.stream.fileno(), line.encode("utf-8"))


POLL_SECONDS = 0.05  # how often the watcher thread looks at the cancel file and the parent
# A soft cancel that finds no safe point this long (a slow step or validation batch deep in
# MLX, which releases the GIL) ends the child from the watcher thread; below the parent's
# TERM_AFTER, so the usual slow-step cancel needs no signal.
HARD_AFTER = 0.8


class CancelWatch:
    """Cancel requests (see the module docstring). ``phase`` is "setup" until training state
    exists, then "train"; ``saving`` is true while a checkpoint is written; ``ending`` is held
    by whoever ends the run (the main thread's final checkpoint and event, or a hard stop), so
    exactly one of them does."""

    def __init__(self, cancel_file: Path, emit: Emitter) -> None:
        self.cancel_file = cancel_file
        self.emit = emit
        self.parent = os.getppid()
        self.flag = False
        self.phase = "setup"
        self.saving = False
        self.term_pending = False
        self.ending = threading.Lock()
        self.resume_from: int = 0  # the iteration the last complete checkpoint holds
        # (trainer.GRACE_ENV: the same setting moves the parent's signals)
        self.hard_after = float(os.environ.get("GRAFTWORK_CANCEL_GRACE") or HARD_AFTER)
        signal.signal(signal.SIGINT, self._on_soft)
        signal.signal(signal.SIGTERM, self._on_term)
        threading.Thread(target=self._watch, name="cancel-watch", daemon=True).start()

    def _watch(self) -> None:
        while not self.flag:
            time.sleep(POLL_SECONDS)
            if self.cancel_file.exists() or os.getppid() != self.parent:
                self.flag = True
        asked = time.monotonic()
        while True:
            # Setup: nothing to save yet, stop the load or measuring at once. Training: give
            # the main thread HARD_AFTER to reach a safe point; a checkpoint write finishes.
            if self.phase == "setup" or (
                not self.saving and time.monotonic() - asked >= self.hard_after
            ):
                self.stop_now()
                return  # the main thread is ending the run itself
            time.sleep(POLL_SECONDS)

    def _on_soft(self, signum: int, frame: Any) -> None:
        self.flag = True
        if self.phase == "setup":
            self.stop_now()

    def _on_term(self, signum: int, frame: Any) -> None:
        self.flag = True
        if self.saving:
            self.term_pending = True  # the checkpoint being written finishes first
        else:
            self.stop_now()

    def stop_now(self) -> None:
        """End the process here, without a new checkpoint (the last complete one stands),
        unless the main thread is already ending the run (then it returns)."""
        if not self.ending.acquire(blocking=False):
            return
        with contextlib.suppress(Exception):  # (a signal may have cut a write of these)
            self.emit.last_word(
                "finished", state="cancelled", iteration=self.resume_from, checkpoint="kept"
            )
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(0)  # nothing half-done to finish: every file we write is replaced whole

    def saved(self, iteration: int | None = None) -> None:
        """A checkpoint write ended (``iteration``: the one it holds, for "last")."""
        if iteration is not None:
            self.resume_from = iteration
        self.saving = False
        if self.term_pending:
            self.stop_now()

    def requested(self) -> bool:
        # An orphaned child (parent killed) stops too, rather than train unwatched.
        return self.flag or self.cancel_file.exists() or os.getppid() != self.parent


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [
        json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()
    ]


def versions() -> dict[str, str]:
    import mlx.core as mx
    import mlx_lm

    return {
        "mlx": mx.__version__,
        "mlx_lm": mlx_lm.__version__,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "device": str(mx.default_device()),
    }


def make_optimizer(cfg: TrainConfig) -> Any:
    import mlx.optimizers as optim

    cls = {"adam": optim.Adam, "adamw": optim.AdamW, "sgd": optim.SGD}[cfg.optimizer]
    return cls(learning_rate=cfg.learning_rate)


class Checkpointer:
    """Writes adapters/best and adapters/last (the latter with optimizer state for resume).

    Each folder is built beside its place and renamed into it (staged_dir), so adapter,
    optimizer state and state.json always belong to the same iteration, whenever the process
    is killed; a hard cancel waits for a write in progress (CancelWatch.saving)."""

    def __init__(
        self,
        run_dir: Path,
        adapter_config: dict[str, Any],
        model: Any,
        optimizer: Any,
        watch: CancelWatch,
    ) -> None:
        self.best_dir = run_dir / "adapters" / "best"
        self.last_dir = run_dir / "adapters" / "last"
        self.adapter_config = adapter_config
        self.model = model
        self.optimizer = optimizer
        self.watch = watch

    def _write_adapter(self, folder: Path) -> None:
        import mlx.core as mx
        from mlx.utils import tree_flatten

        weights = dict(tree_flatten(self.model.trainable_parameters()))
        mx.save_safetensors(str(folder / "adapters.safetensors"), weights)
        write_json(folder / "adapter_config.json", self.adapter_config)

    def save_best(self, iteration: int, val_loss: float) -> None:
        self.watch.saving = True
        try:
            with staged_dir(self.best_dir, replace=True) as stage:
                self._write_adapter(stage)
                write_json(stage / "state.json", {"iteration": iteration, "val_loss": val_loss})
        finally:
            self.watch.saved()

    def save_last(self, state: dict[str, Any]) -> None:
        import mlx.core as mx
        from mlx.utils import tree_flatten

        self.watch.saving = True
        try:
            with staged_dir(self.last_dir, replace=True) as stage:
                self._write_adapter(stage)
                opt = dict(tree_flatten(self.optimizer.state))
                mx.save_safetensors(str(stage / "optimizer.safetensors"), opt)
                write_json(
                    stage / "state.json",
                    {**state, "optimizer_step": int(self.optimizer.state["step"].item())},
                )
        except BaseException:
            self.watch.saved()
            raise
        self.watch.saved(state["iteration"])

    def load_last(self) -> dict[str, Any]:
        import mlx.core as mx
        from mlx.utils import tree_unflatten

        self.model.load_weights(str(self.last_dir / "adapters.safetensors"), strict=False)
        self.optimizer.state = tree_unflatten(
            list(mx.load(str(self.last_dir / "optimizer.safetensors")).items())
        )
        return json.loads((self.last_dir / "state.json").read_text())


def make_batches(lengths_of: list[int], batch_size: int, bucket: bool) -> list[list[int]]:
    """Index batches. Bucketing sorts by real token length so a batch pads to its own longest
    member (mlx-lm sorts chat data by number of keys, i.e. not at all; P11)."""
    order = (
        sorted(range(len(lengths_of)), key=lambda i: lengths_of[i])
        if bucket
        else list(range(len(lengths_of)))
    )
    return [order[i : i + batch_size] for i in range(0, len(order) - batch_size + 1, batch_size)]


def main(spec_path: str, events_fd: str) -> int:
    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    emit = Emitter(os.fdopen(int(events_fd), "w", buffering=1, encoding="utf-8"))
    watch = CancelWatch(Path(spec["cancel_file"]), emit)
    try:
        return _train(spec, emit, watch)
    except Exception as exc:  # the parent shows this; the traceback goes to child.log
        traceback.print_exc()
        emit("finished", state="failed", error=f"{type(exc).__name__}: {exc}")
        return 1


def _train(spec: dict[str, Any], emit: Emitter, watch: CancelWatch) -> int:
    import mlx.core as mx
    import numpy as np
    from mlx.utils import tree_flatten
    from mlx_lm import load
    from mlx_lm.tuner import trainer as trainer_mod
    from mlx_lm.tuner.callbacks import TrainingCallback
    from mlx_lm.tuner.datasets import ChatDataset
    from mlx_lm.tuner.utils import linear_to_lora_layers

    cfg = TrainConfig.model_validate(spec["config"])
    run_dir = Path(spec["run_dir"])
    data_dir = Path(spec["data_dir"])
    vers = versions()
    if spec["resume"]:  # until training starts, a cancel leaves the run where it was
        watch.resume_from = int(
            json.loads((run_dir / "adapters" / "last" / "state.json").read_text())["iteration"]
        )

    t0 = time.perf_counter()
    try:
        model, tokenizer = load(spec["model"])
    except Exception as exc:
        if "LocalEntryNotFound" in type(exc).__name__ or "offline" in str(exc).lower():
            raise RuntimeError(
                f"model {spec['model']!r} is not downloaded, and graftwork trains offline: "
                f"download it first (e.g. `hf download {spec['model']}`) or point `model` at a local folder"
            ) from None
        raise
    if not mx.metal.is_available():
        model.set_dtype(mx.float32)  # bf16/4-bit matmuls skip BLAS on the CPU (P1b)
    emit("log", level="info", message=f"loaded {spec['model']} in {time.perf_counter() - t0:.1f}s")

    # Measure before training with the very tokenization training uses (ChatDataset.process,
    # kept for the CacheDataset below): too-long examples stop the run, or are dropped and listed.
    splits: dict[str, list[dict[str, Any]]] = {}
    processed: dict[str, list[Any]] = {}
    long: list[lengths.Measured] = []
    for split in ("train", "valid"):
        records = read_jsonl(data_dir / f"{split}.jsonl")
        proc = [
            ChatDataset(records, tokenizer, mask_prompt=cfg.mask_prompt).process(r) for r in records
        ]
        measured = lengths.from_counts(
            split, [len(p[0]) for p in proc], spec.get("labels", {}).get(split)
        )
        over = {m.line for m in lengths.too_long(measured, cfg.max_seq_length)}
        long += [m for m in measured if m.line in over]
        splits[split] = [r for i, r in enumerate(records, 1) if i not in over]
        processed[split] = [p for i, p in enumerate(proc, 1) if i not in over]
    if long:
        listing = lengths.describe(long, cfg.max_seq_length)
        too_long = [m.__dict__ for m in long]
        if not spec["drop_long"]:
            emit("log", level="error", message=listing, too_long=too_long)
            emit(
                "finished",
                state="failed",
                too_long=too_long,
                error=listing + " (shorten them, raise max_seq_length, or pass --drop-long)",
            )
            return 3
        emit("log", level="warning", message="dropped " + listing, too_long=too_long)
    if len(splits["train"]) < cfg.batch_size:
        raise ValueError(
            f"the train split has {len(splits['train'])} example(s); batch_size is {cfg.batch_size}"
        )
    if splits["valid"] and len(splits["valid"]) < cfg.batch_size:
        emit(
            "log",
            level="warning",
            message=f"valid split has fewer than batch_size={cfg.batch_size} examples; no validation",
        )
        splits["valid"] = []

    model.freeze()
    num_layers = (
        len(model.layers)
        if cfg.lora.num_layers == -1
        else min(cfg.lora.num_layers, len(model.layers))
    )
    lora_params = {"rank": cfg.lora.rank, "scale": cfg.lora.scale, "dropout": cfg.lora.dropout}
    linear_to_lora_layers(model, num_layers, lora_params)
    adapter_config = {
        "fine_tune_type": "lora",
        "num_layers": num_layers,
        "lora_parameters": lora_params,
        "model": spec["model"],
        "mask_prompt": cfg.mask_prompt,
    }
    optimizer = make_optimizer(cfg)
    ckpt = Checkpointer(run_dir, adapter_config, model, optimizer, watch)

    total_iters = spec.get("total_iters") or cfg.total_iters(len(splits["train"]))
    start, best_loss, best_iter = 0, math.inf, None
    if spec["resume"]:
        state = ckpt.load_last()
        start = state["iteration"]
        best_loss = (
            state.get("best_val_loss") if state.get("best_val_loss") is not None else math.inf
        )
        best_iter = state.get("best_iteration")
        if start >= total_iters:
            raise ValueError(
                f"the run already reached iteration {start}; pass --iters above {start} to continue"
            )
    else:
        optimizer.init(model.trainable_parameters())
    opt_step = int(optimizer.state["step"].item()) if "step" in optimizer.state else 0

    train_ds = _cached(splits["train"], processed["train"], tokenizer, cfg.mask_prompt)
    val_ds = (
        _cached(splits["valid"], processed["valid"], tokenizer, cfg.mask_prompt)
        if splits["valid"]
        else None
    )
    trainable = sum(v.size for _, v in tree_flatten(model.trainable_parameters()))
    emit(
        "started",
        total_iters=total_iters,
        start_iteration=start,
        optimizer_step=opt_step,
        trainable_params=int(trainable),
        n_train=len(splits["train"]),
        n_valid=len(splits["valid"]),
        versions=vers,
    )

    # done: batches handed to mlx-lm; pending: the last one is not trained yet (mlx-lm
    # validates after fetching the batch of an evaluation step, before training on it).
    progress: dict[str, Any] = {
        "done": start,
        "pending": False,
        "best_loss": best_loss,
        "best_iter": best_iter,
    }
    rng = np.random.default_rng(
        cfg.seed + start
    )  # a resumed run draws fresh but reproducible batches
    mx.random.seed(cfg.seed + start)

    def trained() -> int:
        return int(progress["done"]) - (1 if progress["pending"] else 0)

    def checkpoint(reason: str) -> None:
        ckpt.save_last(
            {
                "iteration": trained(),
                "total_iters": total_iters,
                "best_val_loss": None
                if math.isinf(progress["best_loss"])
                else progress["best_loss"],
                "best_iteration": progress["best_iter"],
            }
        )
        emit("checkpoint", iteration=trained(), path=str(ckpt.last_dir), reason=reason)

    def iterate_batches(
        dataset: Any,
        batch_size: int,
        max_seq_length: int,
        loop: bool = False,
        seed: Any = None,
        comm_group: Any = None,
    ) -> Any:
        lens = [
            len(dataset[i][0]) for i in range(len(dataset))
        ]  # tokenizes once; CacheDataset keeps it
        batches = make_batches(lens, batch_size, cfg.length_buckets)
        while True:
            for b in rng.permutation(len(batches)) if loop else range(len(batches)):
                if not loop and watch.requested():  # between two validation batches
                    raise CancelRequested
                if loop:  # training: between two steps is a safe point to save or stop
                    progress["pending"] = False  # the previous batch's step has run
                    done = progress["done"]
                    if (
                        done > start
                        and done % cfg.steps_per_save == 0
                        and done != progress.get("saved")
                    ):
                        progress["saved"] = done
                        checkpoint("save")
                    if watch.requested():
                        raise CancelRequested
                    progress["done"] += 1
                    progress["pending"] = True
                yield _pad_batch([dataset[j] for j in batches[b]], max_seq_length)
            if not loop:
                return

    class Callback(TrainingCallback):
        def on_train_loss_report(self, info: dict[str, Any]) -> None:
            emit(
                "train",
                iteration=info["iteration"] + start,
                loss=info["train_loss"],
                learning_rate=info["learning_rate"],
                it_per_sec=info["iterations_per_second"],
                tokens_per_sec=info["tokens_per_second"],
                trained_tokens=info["trained_tokens"],
                peak_memory_gb=info["peak_memory"],
            )

        def on_val_loss_report(self, info: dict[str, Any]) -> None:
            report_val(info["iteration"] + start, info["val_loss"], info.get("val_time"))

    def report_val(iteration: int, loss: float, val_time: float | None) -> None:
        best = math.isfinite(loss) and loss < progress["best_loss"]
        if best:  # the weights now are exactly those validated (val runs before the step)
            progress["best_loss"], progress["best_iter"] = loss, iteration
            ckpt.save_best(iteration, loss)
        emit("val", iteration=iteration, loss=loss, val_time=val_time, best=best)

    trainer_mod.TrainUI = _QuietUI  # rich progress would write ANSI into our log (P9)
    args = trainer_mod.TrainingArgs(
        batch_size=cfg.batch_size,
        iters=total_iters - start,
        val_batches=cfg.val_batches,
        steps_per_report=cfg.steps_per_report,
        steps_per_eval=cfg.steps_per_eval,
        steps_per_save=10**9,  # we save ourselves, with optimizer state
        max_seq_length=cfg.max_seq_length,
        grad_checkpoint=cfg.grad_checkpoint,
        # mlx-lm saves the final weights here itself; never into a checkpoint folder,
        # which only Checkpointer replaces (whole). The parent deletes a leftover.
        adapter_file=str(run_dir / "adapters" / MLX_LM_SCRATCH),
    )
    (run_dir / "adapters").mkdir(parents=True, exist_ok=True)
    watch.phase = "train"  # from here a soft cancel waits for a safe point and checkpoints
    try:
        if watch.requested():  # asked at the very end of the setup
            raise CancelRequested
        trainer_mod.train(
            model=model,
            optimizer=optimizer,
            train_dataset=train_ds,
            val_dataset=val_ds,
            args=args,
            iterate_batches=iterate_batches,
            training_callback=Callback(),
        )
    except CancelRequested:
        return _cancelled(emit, watch, checkpoint, trained(), start, progress)
    finally:
        (run_dir / "adapters" / MLX_LM_SCRATCH).unlink(missing_ok=True)
    progress["pending"] = False  # train() ran the step of the last batch it fetched
    # train() validates before its last step; validate the final weights as well.
    if val_ds is not None:
        t = time.perf_counter()
        try:
            loss = trainer_mod.evaluate(
                model=model,
                dataset=val_ds,
                batch_size=cfg.batch_size,
                num_batches=cfg.val_batches,
                max_seq_length=cfg.max_seq_length,
                iterate_batches=iterate_batches,
            )
        except CancelRequested:
            return _cancelled(emit, watch, checkpoint, trained(), start, progress)
        report_val(total_iters, loss, time.perf_counter() - t)
    progress["done"] = total_iters
    if not watch.ending.acquire(blocking=False):
        time.sleep(60)  # a hard stop is ending the process
    checkpoint("end")
    emit(
        "finished",
        state="done",
        iteration=total_iters,
        best_iteration=progress["best_iter"],
        best_val_loss=None if math.isinf(progress["best_loss"]) else progress["best_loss"],
    )
    return 0


def _cancelled(
    emit: Emitter,
    watch: CancelWatch,
    checkpoint: Any,
    trained: int,
    start: int,
    progress: dict[str, Any],
) -> int:
    """A soft cancel while training: checkpoint the iterations trained (none new: keep the
    checkpoint there is), then the final event."""
    watch.ending.acquire()  # (if a hard stop holds it, the process ends any moment)
    if trained > start and progress.get("saved") != trained:  # (not just saved)
        checkpoint("cancel")
    emit(
        "finished",
        state="cancelled",
        iteration=trained,
        checkpoint="written" if trained > start else "kept",
        best_iteration=progress["best_iter"],
        best_val_loss=None if math.isinf(progress["best_loss"]) else progress["best_loss"],
    )
    return 0


def _cached(
    records: list[dict[str, Any]], processed: list[Any], tokenizer: Any, mask_prompt: bool
) -> Any:
    """A CacheDataset already holding the tokenization done while measuring."""
    from mlx_lm.tuner.datasets import CacheDataset, ChatDataset

    ds = CacheDataset(ChatDataset(records, tokenizer, mask_prompt=mask_prompt))
    ds._proc_data = list(processed)  # same values CacheDataset would compute on first access
    return ds


def _pad_batch(items: list[tuple[list[int], int]], max_seq_length: int) -> tuple[Any, Any]:
    """(tokens, (offset, length)) per row, padded to 32*k+1 like mlx-lm so the compiled step
    sees few distinct shapes. Lengths were checked before training: nothing is truncated."""
    import mlx.core as mx
    import numpy as np

    longest = max(len(tokens) for tokens, _ in items)
    if longest > max_seq_length:
        raise ValueError(f"an example of {longest} tokens exceeds max_seq_length {max_seq_length}")
    width = min(1 + 32 * ((longest + 31) // 32), max_seq_length)
    arr = np.zeros((len(items), width), np.int32)
    for row, (tokens, _) in enumerate(items):
        arr[row, : len(tokens)] = tokens
    return mx.array(arr), mx.array([[offset, len(tokens)] for tokens, offset in items])


class _QuietUI:
    """Stands in for mlx-lm's TrainUI: same methods, no output (our events carry everything)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None: ...
    def __enter__(self) -> _QuietUI:
        return self

    def __exit__(self, *exc: Any) -> None: ...
    def advance(self, *args: Any, **kwargs: Any) -> None: ...
    def report_train(self, *args: Any, **kwargs: Any) -> None: ...
    def report_val(self, *args: Any, **kwargs: Any) -> None: ...
    def report_save(self, *args: Any, **kwargs: Any) -> None: ...

    def val_task(self, total: int) -> Any:
        import contextlib

        return contextlib.nullcontext(lambda *a, **k: None)


if __name__ == "__main__":
    code = main(sys.argv[1], sys.argv[2])
    # Every file is written and the final event sent: end without the interpreter's and MLX's
    # teardown, which can take longer than the parent's cancel grace (and may abort, P4).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
