"""Session-scoped tiny offline model for any test that needs real mlx (training, sampling).

Use from a conftest.py: ``from support.tiny_model import tiny_model_dir  # noqa: F401``.
"""

from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A qwen2-style model with random float32 weights and a BPE trained on the spot."""
    from graftwork.adapters.mlx.tiny_model import build_tiny_model

    return build_tiny_model(tmp_path_factory.mktemp("tiny-model") / "tiny-qwen2")
