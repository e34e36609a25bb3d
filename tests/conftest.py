"""Shared fixtures. Tests never touch the network, the user's config or a real workspace."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from graftwork.core.base.workspace import Workspace

# Property-based tests (hypothesis) in `make test`: a bounded number of examples, the same ones
# on every run (derandomize, no example database), no per-example deadline (a case runs a real
# CLI against a real HTTP server; its time depends on the machine's load). The autouse env
# fixture below is set once per test, which is what its examples need.
settings.register_profile(
    "graftwork",
    max_examples=int(os.environ.get("GRAFTWORK_FUZZ_EXAMPLES", "40")),
    deadline=None,
    derandomize=True,
    database=None,
    print_blob=True,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
settings.load_profile("graftwork")


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
