"""Fuse a run's adapter into its base model, in a child process (MLX never runs in the
caller's process or threads: P4). `python -m graftwork.adapters.mlx.fuse MODEL ADAPTER OUT`."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from graftwork.core.base.atomic import staged_dir
from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.workspace import Workspace
from graftwork.core.train import runs as runs_mod


class FuseError(GraftworkError):
    pass


def fuse_run(ws: Workspace, run_id: str, *, which: str = "best", out: Path | None = None) -> Path:
    from graftwork.adapters.mlx.trainer import child_env

    if which not in ("best", "last"):
        raise FuseError(f"choose the best or the last adapter, not {which!r}")
    with ws.catalog() as db:
        run = runs_mod.get_run(db, run_id)
    adapter = ws.runs_dir / run["id"] / "adapters" / which
    if not (adapter / "adapters.safetensors").is_file():
        raise FuseError(
            f"run {run['id']} has no {which} adapter ({adapter / 'adapters.safetensors'} is missing)"
        )
    out = Path(out) if out else ws.runs_dir / run["id"] / f"fused-{which}"
    if out.exists() and any(out.iterdir()):
        raise FuseError(f"{out} exists and is not empty; pass --out to choose another folder")
    model = run["config"]["model"]
    # Fuse into a hidden sibling and rename it: a crash or Ctrl-C never leaves a half-written
    # model folder at ``out`` (which would also block the next try as "not empty").
    with staged_dir(out) as partial:
        proc = subprocess.run(
            [
                sys.executable,
                "-m",
                "graftwork.adapters.mlx.fuse",
                model,
                str(adapter),
                str(partial),
            ],
            env=child_env(),
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-5:])
            raise FuseError(f"fusing run {run['id']} failed:\n{tail}")
    return out


def _fuse(model_path: str, adapter_path: str, out: str) -> None:
    from mlx.utils import tree_unflatten
    from mlx_lm.utils import load, save

    model, tokenizer, config = load(model_path, adapter_path=adapter_path, return_config=True)
    fused = [(name, m.fuse()) for name, m in model.named_modules() if hasattr(m, "fuse")]
    if fused:
        model.update_modules(tree_unflatten(fused))
    save(Path(out), model_path, model, tokenizer, config, donate_model=False)


if __name__ == "__main__":
    _fuse(*sys.argv[1:4])
