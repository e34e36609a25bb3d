"""A world for `graftwork ship`: a tiny llama-architecture model built offline, a real LoRA
adapter for it, and a finished run in a workspace as `graftwork train` records it.

The adapter is not trained (shipping does not care how good it is): its LoRA matrices are
random and large enough that the fused weights differ visibly from the base model's, which is
what the tests check. mlx runs in a child process, as everywhere in graftwork.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from graftwork.core.base.workspace import Workspace

_ADAPTER_SCRIPT = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    import mlx.core as mx
    from mlx.utils import tree_flatten
    from mlx_lm import load
    from mlx_lm.tuner.utils import linear_to_lora_layers

    model_dir, out = sys.argv[1], Path(sys.argv[2])
    model, _ = load(model_dir)
    params = {"rank": 4, "dropout": 0.0, "scale": 20.0}
    model.freeze()
    linear_to_lora_layers(model, -1, params)
    mx.random.seed(1)
    weights = {k: mx.random.normal(v.shape) * 0.05 for k, v in tree_flatten(model.trainable_parameters())}
    out.mkdir(parents=True, exist_ok=True)
    mx.save_safetensors(str(out / "adapters.safetensors"), weights)
    (out / "adapter_config.json").write_text(json.dumps(
        {"fine_tune_type": "lora", "num_layers": -1, "lora_parameters": params}))
""")

SYSTEM = "You write tiny widgets."


def _mlx_child(what: str, script: str, *args: Path) -> None:
    """Run ``script`` with mlx in a child process (as graftwork does); fail the test on error."""
    from graftwork.adapters.mlx.trainer import child_env

    done = subprocess.run(
        [sys.executable, "-c", script, *map(str, args)],
        env=child_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    if done.returncode != 0:
        pytest.fail(f"making {what} failed:\n{done.stderr[-2000:]}", pytrace=False)


def build_model_and_adapter(
    base: Path, arch: str = "llama", *, hidden: int = 64, layers: int = 2
) -> tuple[Path, Path]:
    """(model folder, adapter folder) for a tiny model of ``arch``."""
    from graftwork.adapters.mlx.tiny_model import build_tiny_model

    model = build_tiny_model(base / f"tiny-{arch}", arch=arch, hidden=hidden, layers=layers)  # type: ignore[arg-type]
    adapter = base / f"adapter-{arch}"
    _mlx_child("the LoRA adapter", _ADAPTER_SCRIPT, model, adapter)
    return model, adapter


_QUANTIZE_SCRIPT = textwrap.dedent("""
    import sys
    from mlx_lm import load
    from mlx_lm.utils import quantize_model, save
    model, tok, config = load(sys.argv[1], return_config=True)
    model, config = quantize_model(model, config, 64, 4)
    save(sys.argv[2], sys.argv[1], model, tok, config)
""")


def build_quantized_model_and_adapter(base: Path, model: Path) -> tuple[Path, Path]:
    """A 4-bit copy of ``model`` (as mlx-community's -4bit models are) and a LoRA adapter
    made on it (QLoRA)."""
    quantized, adapter = base / "tiny-llama-4bit", base / "adapter-4bit"
    _mlx_child("the 4-bit model", _QUANTIZE_SCRIPT, model, quantized)
    _mlx_child("the QLoRA adapter", _ADAPTER_SCRIPT, quantized, adapter)
    return quantized, adapter


def make_trained_run(
    ws: Workspace,
    model: Path,
    adapter: Path | None,
    *,
    set_name: str = "tiny",
    run_id: str = "20261201-100000-tiny-abcd",
) -> str:
    """A finished run: the built set (datasets/<set>), its runs row with the manifest hash,
    runs/<id>/data/train.jsonl in mlx chat form and the adapter as adapters/best and last."""
    import shutil

    from support.tiny_model import write_tiny_set

    from graftwork.core.train.data import manifest_sha256
    from graftwork.core.train.runs import create_run

    write_tiny_set(ws.datasets_dir, set_name, n_train=4, n_valid=2, n_test=2)
    with ws.catalog() as db:
        create_run(
            db,
            id=run_id,
            set_name=set_name,
            config={"model": str(model), "iters": 30, "learning_rate": 1e-4},
            state="done",
            best_val_loss=1.25,
            best_iteration=20,
            last_iteration=30,
            total_iters=30,
            dataset_manifest_sha256=manifest_sha256(ws, set_name),
        )
    data = ws.runs_dir / run_id / "data"
    data.mkdir(parents=True, exist_ok=True)
    row = {
        "messages": [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Make a red widget."},
            {"role": "assistant", "content": "export const render = () => <div>red</div>;"},
        ]
    }
    (data / "train.jsonl").write_text(json.dumps(row) + "\n", encoding="utf-8")
    if adapter is not None:
        for which in ("best", "last"):
            shutil.copytree(adapter, ws.runs_dir / run_id / "adapters" / which)
    return run_id


_BUILT: dict[str, tuple[Path, Path]] = {}


@pytest.fixture(scope="session")
def llama_world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(tiny llama model, LoRA adapter for it), built once per test process."""
    if "llama" not in _BUILT:
        _BUILT["llama"] = build_model_and_adapter(tmp_path_factory.mktemp("ship-llama"))
    return _BUILT["llama"]


@pytest.fixture(scope="session")
def quantized_llama_world(
    tmp_path_factory: pytest.TempPathFactory, llama_world: tuple[Path, Path]
) -> tuple[Path, Path]:
    """(4-bit copy of the tiny llama model, LoRA adapter made on it)."""
    if "llama-4bit" not in _BUILT:
        base = tmp_path_factory.mktemp("ship-llama-4bit")
        _BUILT["llama-4bit"] = build_quantized_model_and_adapter(base, llama_world[0])
    return _BUILT["llama-4bit"]
