"""The training child process: `python -m graftwork.adapters.mlx.child SPEC_JSON EVENTS_FD`.

It loads the model, measures every example, adds LoRA layers and drives
`mlx_lm.tuner.trainer.train` with a callback (never `lora.run`, which drops callbacks, P8).
Events go as JSON lines to EVENTS_FD only; stdout/stderr (library noise, ANSI) go to the log
file the parent gave us. Cancellation: a cancel file, SIGINT/SIGTERM or the parent dying; it
is noticed before the next batch, and a checkpoint is written before exiting.
"""

from __future__ import annotations

import json
import math
import os
import platform
import signal
import sys
import time
import traceback
from pathlib import Path
from typing import Any, TextIO

from graftwork.core.base.atomic import write_json
from graftwork.core.train import lengths
from graftwork.core.train.config import TrainConfig
from graftwork.core.train.events import encode, make_event


class CancelRequested(Exception):
    """Raised inside train() to stop it; the run then saves a checkpoint."""


class Emitter:
    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def __call__(self, type_: str, **fields: Any) -> None:
        clean = {
            k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in fields.items()
        }
        self.stream.write(encode(make_event(type_, **clean)) + "\n")
        self.stream.flush()


class CancelWatch:
    def __init__(self, cancel_file: Path) -> None:
        self.cancel_file = cancel_file
        self.parent = os.getppid()
        self.flag = False
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self.flag = True

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
    """Writes adapters/best and adapters/last (the latter with optimizer state for resume)."""

    def __init__(
        self, run_dir: Path, adapter_config: dict[str, Any], model: Any, optimizer: Any
    ) -> None:
        self.best_dir = run_dir / "adapters" / "best"
        self.last_dir = run_dir / "adapters" / "last"
        self.adapter_config = adapter_config
        self.model = model
        self.optimizer = optimizer

    def _write_adapter(self, folder: Path) -> None:
        import mlx.core as mx
        from mlx.utils import tree_flatten

        folder.mkdir(parents=True, exist_ok=True)
        weights = dict(tree_flatten(self.model.trainable_parameters()))
        tmp = folder / "adapters.tmp.safetensors"
        mx.save_safetensors(str(tmp), weights)
        os.replace(tmp, folder / "adapters.safetensors")  # never a half-written adapter
        write_json(folder / "adapter_config.json", self.adapter_config)

    def save_best(self, iteration: int, val_loss: float) -> None:
        self._write_adapter(self.best_dir)
        write_json(self.best_dir / "state.json", {"iteration": iteration, "val_loss": val_loss})

    def save_last(self, state: dict[str, Any]) -> None:
        import mlx.core as mx
        from mlx.utils import tree_flatten

        self._write_adapter(self.last_dir)
        opt = dict(tree_flatten(self.optimizer.state))
        tmp = self.last_dir / "optimizer.tmp.safetensors"
        mx.save_safetensors(str(tmp), opt)
        os.replace(tmp, self.last_dir / "optimizer.safetensors")
        write_json(
            self.last_dir / "state.json",
            {**state, "optimizer_step": int(self.optimizer.state["step"].item())},
        )

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
    watch = CancelWatch(Path(spec["cancel_file"]))
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
    ckpt = Checkpointer(run_dir, adapter_config, model, optimizer)

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

    progress = {"done": start, "best_loss": best_loss, "best_iter": best_iter}
    rng = np.random.default_rng(
        cfg.seed + start
    )  # a resumed run draws fresh but reproducible batches
    mx.random.seed(cfg.seed + start)

    def checkpoint(reason: str) -> None:
        ckpt.save_last(
            {
                "iteration": progress["done"],
                "total_iters": total_iters,
                "best_val_loss": None
                if math.isinf(progress["best_loss"])
                else progress["best_loss"],
                "best_iteration": progress["best_iter"],
            }
        )
        emit("checkpoint", iteration=progress["done"], path=str(ckpt.last_dir), reason=reason)

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
                if loop:  # training: between two steps is a safe point to save or stop
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
        adapter_file=str(run_dir / "adapters" / "last" / "adapters.safetensors"),
    )
    (run_dir / "adapters" / "last").mkdir(parents=True, exist_ok=True)
    try:
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
        checkpoint("cancel")  # "done" counts only batches handed out, so it is exact here
        emit(
            "finished",
            state="cancelled",
            iteration=progress["done"],
            best_iteration=progress["best_iter"],
            best_val_loss=None if math.isinf(progress["best_loss"]) else progress["best_loss"],
        )
        return 0
    # train() validates before its last step; validate the final weights as well.
    if val_ds is not None:
        t = time.perf_counter()
        loss = trainer_mod.evaluate(
            model=model,
            dataset=val_ds,
            batch_size=cfg.batch_size,
            num_batches=cfg.val_batches,
            max_seq_length=cfg.max_seq_length,
            iterate_batches=iterate_batches,
        )
        report_val(total_iters, loss, time.perf_counter() - t)
    progress["done"] = total_iters
    checkpoint("end")
    emit(
        "finished",
        state="done",
        iteration=total_iters,
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
    sys.exit(main(sys.argv[1], sys.argv[2]))
