"""`graftwork readme` with a real LoRA adapter on the tiny offline model (mlx on the CPU)."""

from __future__ import annotations

from pathlib import Path

import pytest
from helpers import PY_FILES
from support import review_world
from support.git_repos import write_files
from support.review_world import make_run
from test_readmes_cli import gw

from graftwork.adapters.git_cli import GitCli
from graftwork.core.base.workspace import Workspace
from graftwork.core.sources.readmes.config import load_readmes_config
from graftwork.core.sources.readmes.infer import readme_messages

review_model_dir = review_world.review_model_dir  # session fixtures
tiny_adapter_dir = review_world.tiny_adapter_dir


def test_the_prompt_is_built_like_a_training_example(workspace: Workspace, tmp_path: Path) -> None:
    write_files(tmp_path / "new", {k: v for k, v in PY_FILES.items() if k != "README.md"})
    messages = readme_messages(
        tmp_path / "new",
        git=GitCli(),
        cfg=load_readmes_config(workspace),
        count=len,
        description="Reports on folders.",
        with_keys=False,
    )
    user = messages[1]["content"]
    assert user.startswith("Generate a README for a project with this file structure.")
    assert "in its author's words: Reports on folders." in user
    assert "\n\nProject type: cli\nPrimary language: Python\nFile tree:\n- pyproject.toml" in user
    assert "Key file" not in user


@pytest.mark.mlx
def test_readme_streams_and_writes_beside_never_over_a_readme(
    workspace: Workspace, tmp_path: Path, review_model_dir: Path, tiny_adapter_dir: Path
) -> None:
    run_id = make_run(workspace, "readmes", str(review_model_dir), tiny_adapter_dir)
    target = tmp_path / "project"
    write_files(target, {**PY_FILES, "README.md": "# Mine\n"})
    done = gw(workspace, "readme", "--run", run_id, str(target), "--max-tokens", "12")
    assert done.returncode == 0, done.stderr
    generated = (target / "README.generated.md").read_text()
    assert generated.strip() and done.stdout.strip() == generated.strip()
    assert (target / "README.md").read_text() == "# Mine\n"
    assert f"wrote {target / 'README.generated.md'}" in done.stderr
    missing = gw(workspace, "readme", "--run", run_id, str(tmp_path / "nowhere"))
    assert missing.returncode == 1 and "does not exist" in missing.stderr
