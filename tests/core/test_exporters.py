"""Exporters: Apple copy, mlx-lm chat data (loaded by mlx-lm's own loader) and Alpaca."""

from __future__ import annotations

import json
import types
from pathlib import Path

import pytest
from support.apple_sets import ROWS, SYSTEM, TOOL, example, write_set
from support.tiny_model import tiny_model_dir  # noqa: F401  (session fixture)

from graftwork.core.base.errors import ConfigError, GraftworkError
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.exporters import SetNotFound, export_set
from graftwork.core.dataset.exporters.alpaca import schema, validate_record
from graftwork.core.dataset.exporters.apple import InvalidExample, validate_messages
from graftwork.core.dataset.exporters.mlx_chat import apple_to_mlx_chat


def _read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# -- mlx-chat conversion ---------------------------------------------------------------------


def test_mlx_chat_moves_tools_off_the_system_message_and_renames_arguments() -> None:
    messages = example("Clock").apple_messages()
    original = json.dumps(messages)
    record = apple_to_mlx_chat(messages)

    assert set(record) == {"messages", "tools"}
    assert [m["role"] for m in record["messages"]] == ["system", "user", "assistant"]
    assert "tools" not in record["messages"][0]
    assert [m["content"] for m in record["messages"]] == [m["content"] for m in messages]
    fn = record["tools"][0]["function"]
    assert record["tools"][0]["type"] == "function"
    assert "arguments" not in fn
    assert fn["parameters"] == TOOL["function"]["arguments"]
    assert fn["name"] == "create_widget"
    assert json.dumps(messages) == original  # the input is not modified


def test_mlx_chat_keeps_multi_turn_and_tool_calls() -> None:
    messages = [
        {"role": "system", "content": SYSTEM, "tools": [TOOL]},
        {"role": "user", "content": "Make a clock."},
        {
            "role": "assistant",
            "content": "",
            "tool_calls": [
                {"function": {"name": "create_widget", "arguments": '{"widget_name": "c.widget"}'}}
            ],
        },
        {"role": "user", "content": '{"ok": true}'},
        {"role": "assistant", "content": "Done."},
    ]
    record = apple_to_mlx_chat(messages)
    assert [m["role"] for m in record["messages"]] == [
        "system",
        "user",
        "assistant",
        "user",
        "assistant",
    ]
    call = record["messages"][2]["tool_calls"][0]
    assert call["type"] == "function"
    assert call["function"]["arguments"] == '{"widget_name": "c.widget"}'  # calls keep `arguments`


def test_mlx_chat_without_tools_has_no_tools_key() -> None:
    record = apple_to_mlx_chat(
        [
            {"role": "system", "content": SYSTEM},
            {"role": "user", "content": "Hi"},
            {"role": "assistant", "content": "Hello"},
        ]
    )
    assert "tools" not in record


# -- Apple validation ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("messages", "cause"),
    [
        ({"messages": []}, "JSON array"),
        ([], "no messages"),
        (
            [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"}],
            "first message",
        ),
        (
            [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "a"},
                {"role": "system", "content": "s"},
            ],
            "only first",
        ),
        ([{"role": "system", "content": "s"}, {"role": "tool", "content": "a"}], "role 'tool'"),
        ([{"role": "system", "content": "s"}, {"role": "user", "content": "a"}], "last message"),
        (
            [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": 3},
            ],
            "content must be a string",
        ),
        (
            [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "  "},
                {"role": "assistant", "content": "b"},
            ],
            "content is empty",
        ),
        (
            [
                {
                    "role": "system",
                    "content": "s",
                    "tools": [
                        {
                            "type": "function",
                            "function": {"name": "f", "parameters": {"type": "object"}},
                        }
                    ],
                },
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
            ],
            "'arguments'",
        ),
        (
            [
                {"role": "system", "content": "s"},
                {"role": "user", "content": "a"},
                {"role": "user", "content": "a"},
                {"role": "assistant", "content": "b"},
            ],
            "in a row",
        ),
    ],
)
def test_apple_validation_names_the_broken_rule(messages: object, cause: str) -> None:
    with pytest.raises(InvalidExample, match=cause):
        validate_messages(messages)


# -- export_set --------------------------------------------------------------------------------


def test_apple_export_is_identical_to_the_built_lines(workspace: Workspace) -> None:
    folder = write_set(workspace)
    result = export_set(workspace, "demo", "apple")
    out = workspace.datasets_dir / "demo" / "export" / "apple"
    assert result.ok == 5 and not result.failed
    for split in ("train", "valid", "test"):
        assert (out / f"{split}.jsonl").read_bytes() == (folder / f"{split}.jsonl").read_bytes()


def test_unknown_set_is_a_usage_error(workspace: Workspace) -> None:
    write_set(workspace, "other")
    with pytest.raises(SetNotFound, match=r"unknown set 'nope'.*known sets: other") as info:
        export_set(workspace, "nope", "apple")
    assert info.value.exit_code == 2


def test_a_broken_line_fails_that_item_and_the_rest_export(workspace: Workspace) -> None:
    folder = write_set(workspace)
    with (folder / "train.jsonl").open("a", encoding="utf-8") as fh:
        fh.write('{"messages": []}\n')
    result = export_set(workspace, "demo", "mlx-chat", out_dir=workspace.root / "out")
    assert result.ok == 5
    assert len(result.failed) == 1
    item, cause = result.failed[0]
    assert item == "train-0004"
    assert "train.jsonl line 4" in cause and "JSON array" in cause
    assert len(_read_jsonl(workspace.root / "out" / "train.jsonl")) == 3


def test_mlx_chat_export_skips_empty_splits(workspace: Workspace) -> None:
    write_set(workspace, rows={"train": ["A", "B"], "valid": [], "test": ["C"]})
    out = workspace.root / "mlx"
    (out).mkdir()
    (out / "valid.jsonl").write_text("stale\n")
    result = export_set(workspace, "demo", "mlx-chat", out_dir=out)
    assert not (out / "valid.jsonl").exists()
    assert ("valid", "no examples in this split; file not written") in result.skipped


def test_mlx_chat_export_loads_with_mlx_lm_dataset_loader(
    workspace: Workspace,
    tiny_model_dir: Path,  # noqa: F811  (the imported fixture)
) -> None:
    from mlx_lm.tuner.datasets import ChatDataset, load_dataset
    from mlx_lm.utils import load_tokenizer

    write_set(workspace)
    out = workspace.root / "mlx-chat"
    export_set(workspace, "demo", "mlx-chat", out_dir=out)

    tokenizer = load_tokenizer(tiny_model_dir)
    args = types.SimpleNamespace(data=str(out), train=True, test=True, mask_prompt=True)
    train, valid, test = load_dataset(args, tokenizer)
    assert [len(train), len(valid), len(test)] == [3, 1, 1]
    for dataset in (train, valid, test):
        assert isinstance(dataset, ChatDataset)  # chat format detected from "messages"
        for i in range(len(dataset)):
            tokens, offset = dataset.process(dataset[i])
            assert 0 < offset < len(tokens)  # the prompt is masked, the answer is trained
            text = tokenizer.decode(tokens)
            assert '"parameters"' in text and "create_widget" in text  # tools reached the template
            assert "export const command" in text


def test_alpaca_export_validates_every_record(workspace: Workspace) -> None:
    write_set(workspace)
    out = workspace.root / "alpaca"
    result = export_set(workspace, "demo", "alpaca", out_dir=out)
    assert result.ok == 5 and not result.failed
    records = {split: _read_jsonl(out / f"{split}.jsonl") for split in ("train", "valid", "test")}
    assert [r["meta"]["id"] for r in records["train"]] == ROWS["train"]
    for split, rows in records.items():
        for record in rows:
            validate_record(record)
            assert record["meta"]["split"] == split
            assert record["meta"]["tool"] == "create_widget"
            assert record["input"] == ""
            assert record["instruction"].startswith("Create an Übersicht widget")
            assert record["output"].startswith("// File: index.jsx")
    assert json.loads((out / "alpaca.schema.json").read_text()) == schema()
    prompts = json.loads((out / "system_prompts.json").read_text())
    assert prompts == {records["train"][0]["meta"]["system_prompt_sha256"]: SYSTEM}


def test_a_set_file_that_is_not_utf8_is_one_clear_error(workspace: Workspace) -> None:
    folder = write_set(workspace)
    (folder / "test.jsonl").write_bytes(b"[\xff]\n")
    with pytest.raises(GraftworkError, match=r"test\.jsonl: not UTF-8"):
        export_set(workspace, "demo", "apple")


def test_export_refuses_to_write_over_the_set_itself(workspace: Workspace) -> None:
    folder = write_set(workspace)
    before = (folder / "train.jsonl").read_bytes()
    with pytest.raises(ConfigError, match="is the set itself"):
        export_set(workspace, "demo", "mlx-chat", out_dir=folder)
    assert (folder / "train.jsonl").read_bytes() == before


def _record() -> dict:
    return {
        "instruction": "Make a clock",
        "input": "",
        "output": "code",
        "meta": {
            "id": "Clock",
            "split": "train",
            "source": "uebersicht",
            "tool": None,
            "system_prompt_sha256": "a" * 64,
            "example_sha256": "b" * 64,
        },
    }


def test_alpaca_schema_is_draft7_and_strict() -> None:
    import jsonschema

    assert schema()["$schema"] == "http://json-schema.org/draft-07/schema#"
    jsonschema.Draft7Validator.check_schema(schema())
    validate_record(_record())

    extra = _record() | {"history": []}
    with pytest.raises(InvalidExample, match="Additional properties"):
        validate_record(extra)
    missing = _record()
    del missing["output"]
    with pytest.raises(InvalidExample, match="'output' is a required property"):
        validate_record(missing)
    wrong_type = _record() | {"input": None}
    with pytest.raises(InvalidExample, match="input"):
        validate_record(wrong_type)
    meta_extra = _record()
    meta_extra["meta"]["colour"] = "red"
    with pytest.raises(InvalidExample, match="meta"):
        validate_record(meta_extra)
