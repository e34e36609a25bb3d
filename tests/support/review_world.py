"""Test worlds for sampling and review: a built set written the way `build` writes it, a
`runs` row as `graftwork train` records it, a real LoRA adapter trained on the tiny model, and
sample rows. Shared by tests/core, tests/adapters, tests/tui/training and the CLI tests."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from graftwork.core.base.catalog.db import now
from graftwork.core.base.project import load_project
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import make_example, sha256_text

WIDGETS = [  # (id, split, prompt, code)
    (
        "clock",
        "train",
        "A clock in the top right corner.",
        "export const command = 'date'\nexport const render = ({output}) => <h1>{output}</h1>",
    ),
    (
        "battery",
        "train",
        "Battery percentage bottom left.",
        "export const command = 'pmset -g batt'\nexport const render = ({output}) => <div>{output}</div>",
    ),
    (
        "weather",
        "test",
        "Current weather for Lisbon.",
        "export const command = 'curl wttr.in/Lisbon'\nexport const render = ({output}) => <p>{output}</p>",
    ),
    (
        "cpu",
        "test",
        "CPU load as a bar.",
        "export const command = 'top -l 1'\nexport const render = ({output}) => <pre>{output}</pre>",
    ),
    (
        "disk",
        "valid",
        "Free disk space.",
        "export const command = 'df -h'\nexport const render = ({output}) => <pre>{output}</pre>",
    ),
]


def make_set(
    ws: Workspace, name: str = "widgets", widgets: list[tuple[str, str, str, str]] = WIDGETS
) -> Path:
    """datasets/<name>/{train,valid,test}.jsonl + manifest.json, and an items row per widget."""
    project = load_project(ws)
    folder = ws.datasets_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    lines: dict[str, list[str]] = {"train": [], "valid": [], "test": []}
    items = []
    db = ws.catalog()
    for order, (item_id, split, prompt, code) in enumerate(widgets):
        ex = make_example(
            item_id, project.system_prompt, project.tool, prompt, f"// File: index.jsx\n{code}\n"
        )
        line = ex.apple_line()
        lines[split].append(line)
        items.append({"id": item_id, "split": split, "example_sha256": sha256_text(line)})
        db["items"].upsert(
            {
                "id": item_id,
                "source": "uebersicht",
                "name": item_id.title(),
                "author": "tests",
                "description": prompt,
                "manifest": "{}",
                "manifest_order": order,
                "added_at": now(),
                "updated_at": now(),
            },
            pk="id",
        )
    db.close()
    for split, rows in lines.items():
        (folder / f"{split}.jsonl").write_text("".join(r + "\n" for r in rows), encoding="utf-8")
    (folder / "manifest.json").write_text(
        json.dumps({"name": name, "items": items}), encoding="utf-8"
    )
    return folder


def make_run(
    ws: Workspace,
    set_name: str,
    model: str,
    adapter_src: Path | None = None,
    run_id: str = "20261122-020000-widgets-abcd",
) -> str:
    """A finished `runs` row; the adapter (if given) copied to runs/<id>/adapters/best."""
    import shutil

    from graftwork.core.train.runs import create_run

    db = ws.catalog()
    create_run(
        db,
        id=run_id,
        set_name=set_name,
        config={"model": model, "iters": 30},
        state="done",
        best_val_loss=1.25,
        best_iteration=20,
        last_iteration=30,
        total_iters=30,
    )
    db.close()
    if adapter_src is not None:
        shutil.copytree(adapter_src, ws.runs_dir / run_id / "adapters" / "best")
    return run_id


def add_samples(ws: Workspace, run_id: str, n: int = 2) -> list[int]:
    """Sample rows as `graftwork sample` stores them (fixture data for review tests)."""
    db = ws.catalog()
    ids = []
    for i, (item_id, split, prompt, code) in enumerate([w for w in WIDGETS if w[1] == "test"][:n]):
        ids.append(
            db["samples"]
            .insert(
                {
                    "run_id": run_id,
                    "item_id": item_id,
                    "split": split,
                    "prompt": prompt,
                    "reference": f"// File: index.jsx\n{code}\n",
                    "base_output": f"base gibberish {i}",
                    "adapter_output": f"// File: index.jsx\nexport const command = 'echo {i}'\n\n// File: lib/util.jsx\nexport const x = {i}\n",
                    "seed": 1,
                    "temperature": 0.7,
                    "max_tokens": 64,
                    "base_ms": 10.0 + i,
                    "adapter_ms": 12.0 + i,
                    "created_at": now(),
                    "messages": json.dumps([{"role": "user", "content": prompt}]),
                    "adapter": "best",
                }
            )
            .last_pk
        )
    db.close()
    return ids


# What the adapter is trained to answer after "Widget 0/1/2" (system "You write widgets.").
TRAINED_ANSWER = "export const command = 'date'"
# Training goes on, in rounds, until at every token of that answer (through <|im_end|>) the
# right token's logit beats every other token's by MIN_MARGIN after its prompt, teacher-forced.
# Greedy decoding takes the argmax, so it must then write exactly the answer and stop: the
# greedy test holds by construction, not by how far a random model got in a fixed number of
# steps (issue 15). A margin and not a loss bound, because the frozen random tied embeddings of
# the tiny model cap its probabilities near 0.4; the margin leaves room for float differences
# between this forward pass and the cached generation.
MIN_MARGIN = 2.0
ROUND_ITERS, MAX_ROUNDS = 12, 10

_TRAIN_SCRIPT = textwrap.dedent("""
    import contextlib, io, json, sys
    from pathlib import Path
    import mlx.core as mx, mlx.optimizers as optim, numpy as np
    from mlx_lm import load
    from mlx_lm.tuner.datasets import CacheDataset, ChatDataset
    from mlx_lm.tuner.trainer import TrainingArgs, train
    from mlx_lm.tuner.utils import linear_to_lora_layers
    from mlx_lm.utils import save_config

    model_dir, out, answer = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
    min_margin, round_iters, max_rounds = float(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6])
    model, tok = load(model_dir)

    def chat(i):
        return [{"role": "system", "content": "You write widgets."},
                {"role": "user", "content": f"Widget {i % 3}"},
                {"role": "assistant", "content": answer}]

    rows = [{"messages": chat(i)} for i in range(8)]
    data = CacheDataset(ChatDataset(rows, tok, mask_prompt=True))
    mx.random.seed(0); np.random.seed(0)
    params = {"rank": 4, "dropout": 0.0, "scale": 20.0}
    model.freeze(); linear_to_lora_layers(model, -1, params)
    out.mkdir(parents=True, exist_ok=True)
    save_config({"fine_tune_type": "lora", "num_layers": -1, "lora_parameters": params}, out / "adapter_config.json")
    args = TrainingArgs(batch_size=4, iters=round_iters, steps_per_report=1000, steps_per_eval=1000, val_batches=1,
                        steps_per_save=1000, adapter_file=str(out / "adapters.safetensors"), max_seq_length=256)
    optimizer = optim.Adam(learning_rate=1e-3)  # one optimizer: its state carries over between rounds

    def answer_margin():
        # min over answer tokens (through <|im_end|>) and prompts of: right logit - best other logit
        model.eval()
        margin, n_answer = float("inf"), 0
        for i in range(3):
            messages = chat(i)
            prompt = tok.apply_chat_template(messages[:-1], add_generation_prompt=True, return_dict=False)
            full = tok.apply_chat_template(messages, return_dict=False)
            assert full[:len(prompt)] == prompt, "the prompt is not a prefix of the training example"
            target = mx.array(full[len(prompt):full.index(tok.eos_token_id, len(prompt)) + 1])
            logits = model(mx.array([full[:len(prompt) + target.size - 1]]))[0, len(prompt) - 1:]
            logits = logits.astype(mx.float32)
            right = mx.take_along_axis(logits, target[:, None], axis=1)[:, 0]
            is_right = mx.arange(logits.shape[1])[None, :] == target[:, None]
            best_other = mx.where(is_right, -mx.inf, logits).max(axis=1)
            margin, n_answer = min(margin, (right - best_other).min().item()), max(n_answer, target.size)
        return margin, n_answer

    for rounds in range(1, max_rounds + 1):
        with contextlib.redirect_stdout(io.StringIO()):  # mlx-lm's progress UI writes to stdout (P9)
            train(model=model, optimizer=optimizer, args=args, train_dataset=data)
        margin, n_answer = answer_margin()
        if margin >= min_margin:
            break
    else:
        sys.exit(f"the adapter did not learn its answer: logit margin {margin:.2f} < {min_margin} "
                 f"after {max_rounds * round_iters} iterations")
    print(json.dumps({"iters": rounds * round_iters, "margin": margin, "answer_tokens": n_answer}))
""")


def write_trained_set(ws: Workspace, name: str = "widgets", tests: int = 3) -> None:
    """Apple-schema lines with the adapter's training prompts ("Widget i") and answer: one in
    train and valid, ``tests`` in test (beyond 3 the prompts are ones it did not learn)."""
    folder = ws.datasets_dir / name
    folder.mkdir(parents=True)
    items = []
    for split, count in (("train", 1), ("valid", 1), ("test", tests)):
        lines = []
        for i in range(count):
            line = json.dumps(
                [
                    {"role": "system", "content": "You write widgets."},
                    {"role": "user", "content": f"Widget {i}"},
                    {"role": "assistant", "content": TRAINED_ANSWER},
                ]
            )
            lines.append(line)
            items.append(
                {"id": f"{split}-w{i}", "split": split, "example_sha256": sha256_text(line)}
            )
        (folder / f"{split}.jsonl").write_text("".join(x + "\n" for x in lines), encoding="utf-8")
    (folder / "manifest.json").write_text(json.dumps({"name": name, "items": items}))


_BUILT: dict[str, Path] = {}  # once per test process, whichever module asks first


def _build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    if not _BUILT:
        from graftwork.adapters.mlx.tiny_model import build_tiny_model
        from graftwork.adapters.mlx.trainer import child_env  # OpenBLAS on Linux: ~20x faster (P1)

        base = tmp_path_factory.mktemp("review-tiny")
        model = build_tiny_model(base / "tiny-qwen2")
        adapter = base / "adapter"
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                _TRAIN_SCRIPT,
                str(model),
                str(adapter),
                TRAINED_ANSWER,
                str(MIN_MARGIN),
                str(ROUND_ITERS),
                str(MAX_ROUNDS),
            ],
            env=child_env(),
            capture_output=True,
            text=True,
            timeout=300,
        )
        if done.returncode != 0:
            pytest.fail(
                f"training the review adapter failed:\n{done.stderr[-2000:]}", pytrace=False
            )
        # {"iters", "margin", "answer_tokens"}, beside the adapter folder (copied as a whole by make_run)
        (base / "adapter-training.json").write_text(
            done.stdout.strip().splitlines()[-1], encoding="utf-8"
        )
        _BUILT.update(model=model, adapter=adapter)
    return _BUILT


# Session fixtures are per defining module, so modules that bind these names share one build
# through _BUILT instead of training an adapter each.
@pytest.fixture(scope="session")
def review_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny offline model (random weights, BPE trained on the spot)."""
    return _build(tmp_path_factory)["model"]


@pytest.fixture(scope="session")
def tiny_adapter_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real LoRA adapter for review_model_dir: a few mlx-lm training steps, in a child process."""
    return _build(tmp_path_factory)["adapter"]


def sample_rows(ws: Workspace, run_id: str) -> list[dict[str, Any]]:
    from graftwork.core.review.samples import list_samples

    with ws.catalog() as db:
        return list_samples(db, run_id)
