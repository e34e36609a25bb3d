"""`graftwork demo --recipe readmes`: a workspace on the sample repositories under
data/readmes, run offline: collect, chunk, instructions from a dry-run teacher (the
template instructions stay), budget, build, the seed's records, and a few training steps on
the tiny offline model."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from graftwork.core.base.errors import GraftworkError
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.splits import assign_split

PACKAGE_DIR = Path(__file__).resolve().parents[3]  # graftwork/
SET_NAME = "readmes-demo"
FRACTIONS = {"train": 0.5, "valid": 0.25, "test": 0.25}


def sample_dir() -> Path:
    """data/readmes of a checkout, else the copy shipped inside the wheel."""
    for candidate in (PACKAGE_DIR.parent / "data" / "readmes", PACKAGE_DIR / "_readmes"):
        if candidate.is_dir():
            return candidate
    raise GraftworkError("the readmes sample (data/readmes) is missing from this installation")


def split_seed(repo_ids: list[str]) -> int:
    """The first seed that gives every split at least one repository (four repositories are
    few for a hash split); found the same way every time."""
    for seed in range(10_000):
        splits = {assign_split(r, FRACTIONS, seed) for r in repo_ids}
        if splits == set(FRACTIONS):
            return seed
    return 0


def prepare(target: Path) -> tuple[Workspace, list[str]]:
    """The demo workspace (re-used when it exists) and the sample folders to collect."""
    ws = Workspace.init(target)
    repos = ws.root / "sample-repos"
    sources = []
    for folder in sorted(p for p in sample_dir().iterdir() if p.is_dir()):
        dest = repos / folder.name
        if not dest.exists():
            shutil.copytree(folder, dest)
        sources.append(str(dest))
    settings = yaml.safe_load(ws.config_path.read_text(encoding="utf-8")) or {}
    settings["recipe"] = "readmes"
    settings["readmes"] = {"chunk": {"min_chars": 300, "max_chars": 900}}
    settings["project"] = {
        **(settings.get("project") or {}),
        "splits": FRACTIONS,
        "seed": split_seed([Path(s).name for s in sources]),
    }
    ws.config_path.write_text(yaml.safe_dump(settings, sort_keys=False), encoding="utf-8")
    return ws, sources
