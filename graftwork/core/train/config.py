"""Training configuration (configs/train.yaml < graftwork.yaml `train:` < flags)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator

from graftwork.core.base.config import StrictModel, load_section
from graftwork.core.base.workspace import Workspace


class LoraConfig(StrictModel):
    rank: int = Field(8, ge=1)
    scale: float = Field(20.0, gt=0)
    dropout: float = Field(0.0, ge=0, lt=1)
    num_layers: int = Field(16, ge=-1)

    @model_validator(mode="after")
    def _layers_not_zero(self) -> LoraConfig:
        if self.num_layers == 0:
            raise ValueError("num_layers must be -1 (all) or a positive number")
        return self


class TrainConfig(StrictModel):
    model: str = Field(min_length=1)
    lora: LoraConfig = LoraConfig()
    iters: int | None = Field(600, ge=1)
    epochs: float | None = Field(None, gt=0)
    batch_size: int = Field(4, ge=1)
    learning_rate: float = Field(1e-5, gt=0)
    optimizer: Literal["adam", "adamw", "sgd"] = "adam"
    max_seq_length: int = Field(4095, ge=16)
    mask_prompt: bool = True
    grad_checkpoint: bool = False
    steps_per_report: int = Field(10, ge=1)
    steps_per_eval: int = Field(100, ge=1)
    steps_per_save: int = Field(100, ge=1)
    val_batches: int = Field(25, ge=-1)
    seed: int = 0
    length_buckets: bool = True
    # Mixed into the training split (seed 001): a local Alpaca/chat JSONL (offline) or a
    # Hugging Face dataset name (loads when online). None or "": no mixing.
    public_dataset: str | None = None
    public_dataset_size: int = Field(10_000, ge=1)
    apple: dict[str, Any] | None = (
        None  # Apple toolkit settings, validated by core.apple_toolkit.AppleConfig
    )

    @model_validator(mode="after")
    def _iters_or_epochs(self) -> TrainConfig:
        if self.iters is None and self.epochs is None:
            raise ValueError("set either iters or epochs")
        if self.val_batches == 0:
            raise ValueError("val_batches must be -1 (all) or a positive number")
        return self

    def total_iters(self, n_train: int) -> int:
        """Optimizer steps to run: ``epochs`` (when set) wins over ``iters``."""
        if self.epochs is not None:
            return max(1, round(self.epochs * n_train / self.batch_size))
        assert self.iters is not None
        return self.iters


def load_train_config(
    ws: Workspace | None,
    overrides: dict[str, Any] | None = None,
    *,
    defaults_file: Path | None = None,
) -> TrainConfig:
    """Defaults (configs/train.yaml or ``defaults_file``, i.e. --config) < workspace < flags.
    Setting --iters clears a configured ``epochs``."""
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    if "iters" in flags:
        flags.setdefault("epochs", None)
    cfg = load_section(ws, "train", TrainConfig, flags, defaults_file=defaults_file)
    if "iters" in flags and cfg.epochs is not None:
        cfg = cfg.model_copy(update={"epochs": None})
    return cfg
