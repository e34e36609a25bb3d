"""Alpaca records (seed 004): instruction = the user prompt, input = "" or earlier turns as
context, output = the assistant answer, meta = provenance. Every record is checked against
alpaca.schema.json (draft-07, additionalProperties false) before it is written."""

from __future__ import annotations

import functools
import json
from pathlib import Path
from typing import Any

from graftwork.core.dataset.examples import OWN_META_KEY, Example, sha256_text
from graftwork.core.dataset.exporters.apple import InvalidExample, validate_messages

SCHEMA_PATH = Path(__file__).with_name("alpaca.schema.json")


@functools.cache
def schema() -> dict[str, Any]:
    return json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))


@functools.cache
def _validator() -> Any:
    import jsonschema  # imported on first use: only the alpaca export needs it

    jsonschema.Draft7Validator.check_schema(schema())
    return jsonschema.Draft7Validator(schema())


def validate_record(record: Any) -> None:
    """Raise InvalidExample with the first schema violation, naming the field."""
    errors = sorted(_validator().iter_errors(record), key=lambda e: list(e.absolute_path))
    if errors:
        err = errors[0]
        where = "/".join(str(p) for p in err.absolute_path) or "(record)"
        raise InvalidExample(f"alpaca schema: {where}: {err.message}")


def apple_to_alpaca(
    messages: list[dict[str, Any]],
    *,
    item_id: str,
    split: str,
    source: str,
    set_name: str,
    example_sha256: str,
) -> dict[str, Any]:
    validate_messages(messages)
    system = messages[0]
    turns = messages[1:]
    # The last user turn is the instruction; anything before it is context for `input`.
    last_user = max(i for i, m in enumerate(turns) if m["role"] == "user")
    context = "\n\n".join(f"{m['role']}: {m['content']}" for m in turns[:last_user])
    answer = turns[last_user + 1 :]
    if len(answer) != 1:
        raise InvalidExample("alpaca needs exactly one assistant answer after the last user turn")
    tools = system.get("tools") or []
    record = {
        "instruction": turns[last_user]["content"],
        "input": context,
        "output": answer[0]["content"],
        "meta": {
            "id": item_id,
            "split": split,
            "set": set_name,
            "source": source,
            "system_prompt_sha256": sha256_text(system["content"]),
            "example_sha256": example_sha256,
            "tool": tools[0]["function"]["name"] if tools else None,
        },
    }
    validate_record(record)
    return record


def example_to_alpaca(
    ex: Example, *, split: str, source: str, set_name: str, example_sha256: str
) -> dict[str, Any]:
    """Any example (a chat set's line) as Alpaca. An imported record keeps its own
    instruction, input (unless its prompt was edited) and meta, exactly as it came."""
    fields = ex.alpaca_fields()
    if not fields["instruction"]:
        raise InvalidExample("alpaca needs a user turn (the instruction)")
    if not fields["output"]:
        raise InvalidExample("alpaca needs an assistant answer (the output)")
    own = ex.meta.get(OWN_META_KEY)
    if isinstance(own, dict):
        meta: dict[str, Any] = own
    else:
        meta = {
            "id": ex.item_id,
            "split": split,
            "set": set_name,
            "source": source,
            "system_prompt_sha256": sha256_text(ex.system),
            "example_sha256": example_sha256,
            "tool": ex.tools[0]["function"]["name"] if ex.tools else None,
        }
    record = {**fields, "meta": meta}
    validate_record(record)
    return record
