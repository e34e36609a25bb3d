"""The data a run trains on: a built set (apple or chat lines) exported as mlx-lm chat JSONL
into runs/<id>/data/.

This is the one place that reads a set's split files for training (`export_set`); a new set
format is taught here. Each line is labelled with its item id from the set's manifest.json so
messages (too long, dropped) name examples, not line numbers.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from graftwork.core.base.atomic import write_text
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import sha256_text
from graftwork.core.dataset.exporters import set_dir
from graftwork.core.dataset.sets import manifest_index, mlx_chat_line, read_format
from graftwork.core.train.port import TrainError

SPLITS = ("train", "valid", "test")


def export_set(ws: Workspace, set_name: str, data_dir: Path) -> dict[str, list[str]]:
    """Write the set as mlx-lm chat JSONL into data_dir; return item labels per split
    ("" where the manifest does not know the line)."""
    folder = set_dir(ws, set_name)  # an unknown set: SetNotFound, a usage error (exit 2)
    data_dir.mkdir(parents=True, exist_ok=True)
    by_sha, _ = manifest_index(folder)  # read once for all splits
    set_format = read_format(folder)  # apple or chat lines (core/dataset/sets.py)
    labels: dict[str, list[str]] = {}
    for split in SPLITS:
        src = folder / f"{split}.jsonl"
        if not src.is_file():
            continue
        lines = [ln for ln in src.read_text(encoding="utf-8").splitlines() if ln.strip()]
        out = []
        for n, line in enumerate(lines, 1):
            try:
                out.append(mlx_chat_line(line, set_format))
            except (ValueError, KeyError, TypeError) as exc:
                what = "an Apple-schema example" if set_format == "apple" else "a chat record"
                raise TrainError(f"{src}:{n}: not {what} ({exc})") from None
        write_text(data_dir / f"{split}.jsonl", "".join(line + "\n" for line in out))
        labels[split] = [by_sha.get(sha256_text(line), "") for line in lines]
    return labels


def manifest_sha256(ws: Workspace, set_name: str) -> str | None:
    """Hash of the set's manifest.json, recorded on the run (which build it trained on)."""
    path = ws.datasets_dir / set_name / "manifest.json"
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.is_file() else None
