"""`graftwork readme`: what a trained readmes adapter is asked for a new folder, and where
the answer goes.

The prompt is built exactly like a training example's user turn (instruction, blank line,
rendered input), from the folder's own file tree and facts (the same rules as collect);
key files are included when the run was trained with them. The answer is written to
README.generated.md beside the folder's files: never README.md, so an existing README is
never overwritten."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from graftwork.core.base.atomic import write_text
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import alpaca_user
from graftwork.core.sources.readmes.collect import scan_folder
from graftwork.core.sources.readmes.config import ReadmesConfig
from graftwork.core.sources.readmes.facts import Counter
from graftwork.core.sources.readmes.model import GitPort
from graftwork.core.sources.readmes.templates import RepoContext

GENERATED = "README.generated.md"
INSTRUCTION = (
    "Generate a README for a project with this file structure. Include the standard "
    "sections: About, Built With, Getting Started, Usage, License."
)


def trained_with_key_files(ws: Workspace, run_id: str) -> bool:
    """Whether the run's training data showed key files (as the collect step renders them)."""
    data = ws.runs_dir / run_id / "data" / "train.jsonl"
    try:
        with open(data, encoding="utf-8") as fh:
            return any("\\nKey file " in line for line in fh)
    except OSError:
        return False


def readme_messages(
    root: Path,
    *,
    git: GitPort | None,
    cfg: ReadmesConfig,
    count: Counter,
    description: str | None,
    with_keys: bool,
) -> list[dict[str, Any]]:
    files, _, facts = scan_folder(root, git, cfg, count)
    ctx = RepoContext(
        repo_id=root.name,
        file_tree=files[: cfg.collect.tree_max_files],
        project_type=facts["project_type"],
        language=facts["language"],
        key_files=[{"path": k.path, "content": k.content} for k in facts["key_files"]]
        if with_keys
        else [],
        tree_total=len(files),
    )
    instruction = INSTRUCTION
    if description and description.strip():
        instruction += f" The project, in its author's words: {description.strip()}"
    return [
        {"role": "system", "content": cfg.system_prompt.strip()},
        {"role": "user", "content": alpaca_user(instruction, ctx.render())},
    ]


def write_generated(root: Path, text: str) -> Path:
    path = root / GENERATED
    write_text(path, text.rstrip() + "\n")
    return path
