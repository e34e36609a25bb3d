"""A built set written by hand, exactly as `build` writes one (Apple-schema lines plus
manifest.json), for export tests that must not depend on the rest of the pipeline."""

from __future__ import annotations

import json
from pathlib import Path

from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import Example, make_example

TOOL = {
    "type": "function",
    "function": {
        "name": "create_widget",
        "description": "Create an Übersicht widget folder.",
        "arguments": {
            "type": "object",
            "properties": {"widget_name": {"type": "string"}},
            "required": ["widget_name"],
            "additionalProperties": False,
        },
    },
}
SYSTEM = "A conversation between a user and a helpful assistant. Write widgets."
ROWS = {
    "train": ["Clock", "Battery", "Cpu"],
    "valid": ["Weather"],
    "test": ["Calendar"],
}


def example(item_id: str) -> Example:
    return make_example(
        item_id,
        SYSTEM,
        TOOL,
        f"Create an Übersicht widget that shows the {item_id.lower()}.",
        f'// File: index.jsx\nexport const command = "echo {item_id}";\n'
        f'export const render = ({{ output }}) => <div className="w">{{output}}</div>;',
    )


def write_set(ws: Workspace, name: str = "demo", rows: dict[str, list[str]] = ROWS) -> Path:
    """A built set as build writes it: Apple-schema lines plus manifest.json."""
    folder = ws.datasets_dir / name
    folder.mkdir(parents=True)
    items = []
    for split, ids in rows.items():
        examples = [example(i) for i in ids]
        (folder / f"{split}.jsonl").write_text(
            "".join(e.apple_line() + "\n" for e in examples), encoding="utf-8"
        )
        items += [{"id": e.item_id, "split": split, "example_sha256": e.sha256()} for e in examples]
    (folder / "manifest.json").write_text(json.dumps({"items": items}), encoding="utf-8")
    return folder
