"""Shared fixtures. Tests never touch the network, the user's config or a real workspace."""

from __future__ import annotations

from pathlib import Path

import pytest

from graftwork.core.base.workspace import Workspace


@pytest.fixture(autouse=True)
def _isolate_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("GRAFTWORK_WORKSPACE", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # a missing local model path must never hit a hub
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)


@pytest.fixture
def workspace(tmp_path: Path) -> Workspace:
    """A fresh, empty workspace in a temp folder."""
    return Workspace.init(tmp_path / "ws")
