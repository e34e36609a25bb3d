"""Teacher settings: defaults, workspace overrides, flags, and errors that never echo a key."""

from __future__ import annotations

import pytest

from graftwork.core.base.errors import ConfigError
from graftwork.core.base.workspace import Workspace
from graftwork.core.teach.config import TeacherConfig, code_budget, load_teacher_config


def test_defaults_then_workspace_then_flags(workspace: Workspace) -> None:
    cfg = load_teacher_config(workspace)
    assert cfg.api_key_env == "OPENAI_API_KEY" and cfg.gating == "lenient" and cfg.dry_run is False
    workspace.config_path.write_text(
        "teacher:\n  model: local-qwen\n  concurrency: 3\n  gating: strict\n"
    )
    cfg = load_teacher_config(workspace, {"concurrency": 9, "model": None, "dry_run": True})
    assert (cfg.model, cfg.concurrency, cfg.gating, cfg.dry_run) == (
        "local-qwen",
        9,
        "strict",
        True,
    )


def test_misspelt_key_names_file_and_key(workspace: Workspace) -> None:
    workspace.config_path.write_text("teacher:\n  concurency: 3\n")
    with pytest.raises(ConfigError, match="unknown key 'concurency'"):
        load_teacher_config(workspace)


def test_a_key_pasted_into_api_key_env_is_refused_without_echoing_it(workspace: Workspace) -> None:
    secret = "sk-proj-PASTED-SECRET-123"
    workspace.config_path.write_text(f"teacher:\n  api_key_env: {secret}\n")
    with pytest.raises(ConfigError) as info:
        load_teacher_config(workspace)
    assert "NAME of an environment variable" in str(info.value) and secret not in str(info.value)


def test_bad_values_are_clear(workspace: Workspace) -> None:
    with pytest.raises(ConfigError, match="base_url must start with http"):
        load_teacher_config(workspace, {"base_url": "localhost:8080"})
    with pytest.raises(ConfigError, match="concurrency"):
        load_teacher_config(workspace, {"concurrency": 0})
    with pytest.raises(ConfigError, match="gating"):
        load_teacher_config(workspace, {"gating": "harsh"})


def test_public_base_url_drops_credentials() -> None:
    cfg = TeacherConfig(base_url="https://user:pw@example.test:8443/v1?key=abc")
    assert cfg.public_base_url() == "https://example.test:8443/v1"
    assert "pw" not in str(cfg.public_dict()) and "abc" not in str(cfg.public_dict())


def test_cost_and_code_budget_fallback(workspace: Workspace) -> None:
    cfg = TeacherConfig(price_input_per_million=2.0, price_output_per_million=8.0)
    assert cfg.cost(1_000_000, 500_000) == pytest.approx(6.0)
    assert code_budget(cfg, workspace) == 2500  # the project's teacher_code_tokens
    assert code_budget(TeacherConfig(code_budget_tokens=100), workspace) == 100
