"""Schema of the train area. Append new migrations at the end; never edit a shipped one."""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("graftwork.train")


@migrations()
def m001_runs(db: Database) -> None:
    # One row per training run; its files live in runs/<id>/. `config` is the resolved
    # TrainConfig as JSON, `versions` {mlx, mlx_lm, platform, python}.
    db["runs"].create(
        {
            "id": str,
            "set_name": str,
            "state": str,
            "config": str,
            "dataset_manifest_sha256": str,
            "versions": str,
            "adapter_dir": str,
            "best_val_loss": float,
            "best_iteration": int,
            "last_iteration": int,
            "total_iters": int,
            "resumed_from": str,
            "started_at": str,
            "ended_at": str,
            "error": str,
            "job_id": str,
        },
        pk="id",
    )
    db["runs"].create_index(["started_at"])
    # One row per reported point: kind train (loss, lr, speed, memory) or val (loss).
    db["run_metrics"].create(
        {
            "run_id": str,
            "iteration": int,
            "kind": str,
            "loss": float,
            "learning_rate": float,
            "it_per_sec": float,
            "tokens_per_sec": float,
            "peak_memory_gb": float,
            "ts": str,
        },
        foreign_keys=[("run_id", "runs", "id")],
    )
    db["run_metrics"].create_index(["run_id", "kind", "iteration"])
