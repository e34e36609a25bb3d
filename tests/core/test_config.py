from __future__ import annotations

from pathlib import Path

import pytest

from graftwork.core.base.config import load_section
from graftwork.core.base.errors import ConfigError
from graftwork.core.base.project import ProjectConfig, load_project
from graftwork.core.base.workspace import Workspace


def _write(ws: Workspace, text: str) -> None:
    ws.config_path.write_text(text, encoding="utf-8")


def test_defaults_load_with_apple_tool_shape(workspace: Workspace) -> None:
    cfg = load_project(workspace)
    assert cfg.max_sequence_length == 4095
    assert cfg.tool["function"]["arguments"]["type"] == "object"
    assert (cfg.splits.train, cfg.splits.valid, cfg.splits.test) == (0.8, 0.1, 0.1)
    assert cfg.tokenizer.kind == "auto"  # Apple's toolkit tokenizer when configured, else tiktoken


def test_workspace_overrides_defaults_and_flags_override_workspace(workspace: Workspace) -> None:
    _write(workspace, "project:\n  max_sequence_length: 2048\n  ingest: {concurrency: 3}\n")
    cfg = load_project(workspace)
    assert cfg.max_sequence_length == 2048
    assert cfg.ingest.concurrency == 3
    assert cfg.ingest.retries == 3  # untouched nested keys keep their defaults
    cfg = load_project(workspace, {"max_sequence_length": 1000, "seed": None})
    assert cfg.max_sequence_length == 1000
    assert cfg.seed == 42


def test_misspelt_key_names_file_and_key(workspace: Workspace) -> None:
    _write(workspace, "project:\n  max_sequense_length: 10\n")
    with pytest.raises(ConfigError) as err:
        load_project(workspace)
    msg = str(err.value)
    assert "graftwork.yaml" in msg and "max_sequense_length" in msg and "unknown key" in msg


def test_wrong_type_names_key_and_expected_type(workspace: Workspace) -> None:
    _write(workspace, "project:\n  ingest: {concurrency: lots}\n")
    with pytest.raises(ConfigError) as err:
        load_project(workspace)
    msg = str(err.value)
    assert "ingest.concurrency" in msg and "integer" in msg and "'lots'" in msg


def test_unknown_top_level_section(workspace: Workspace) -> None:
    _write(workspace, "projekt: {}\n")
    with pytest.raises(ConfigError, match="projekt"):
        load_project(workspace)


def test_split_fractions_must_sum_to_one(workspace: Workspace) -> None:
    _write(workspace, "project:\n  splits: {train: 0.8, valid: 0.1, test: 0.2}\n")
    with pytest.raises(ConfigError, match=r"add up to 1\.0"):
        load_project(workspace)


def test_openai_parameters_key_is_refused(workspace: Workspace) -> None:
    _write(
        workspace,
        "project:\n  tool: {type: function, function: {name: x, parameters: {type: object}}}\n",
    )
    with pytest.raises(ConfigError, match="arguments"):
        load_project(workspace)


def test_broken_defaults_file_is_named(tmp_path: Path) -> None:
    bad = tmp_path / "project.yaml"
    bad.write_text("system_prompt: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_section(None, "project", ProjectConfig, defaults_file=bad)
