"""A workspace is a folder holding graftwork.yaml, the catalog and the files it manages."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from graftwork.core.base.errors import WorkspaceError

CONFIG_NAME = "graftwork.yaml"
DB_NAME = "graftwork.db"
ENV_VAR = "GRAFTWORK_WORKSPACE"
SUBDIRS = ("downloads", "prompts", "datasets", "runs")

_STARTER_HEAD = """\
# graftwork workspace settings. Every key overrides the defaults in graftwork's configs/
# (project.yaml, teacher.yaml, train.yaml). A misspelt key is an error, never ignored.
# recipe: the pipeline of this workspace (`graftwork recipes` lists them).
"""
_STARTER_CONFIG = """\
project: {}
#   max_sequence_length: 4095
#   splits: {train: 0.8, valid: 0.1, test: 0.1}
#   tokenizer: {kind: tiktoken, encoding: cl100k_base}
teacher: {}
#   base_url: http://127.0.0.1:8080/v1
#   model: my-teacher
train: {}
#   model: /path/to/local/mlx/model
keymap: {}
#   widgets.exclude: x
run: {}
"""
# under `run:` in a new graftwork.yaml unless the recipe gives its own (Recipe.run_hint)
DEFAULT_RUN_HINT = (
    "#   manifest: widgets.json   (inputs of `graftwork run`, by flag name)\n#   set: widgets-v1\n"
)


@dataclass(frozen=True)
class Workspace:
    root: Path

    @property
    def config_path(self) -> Path:
        return self.root / CONFIG_NAME

    @property
    def db_path(self) -> Path:
        return self.root / DB_NAME

    @property
    def downloads_dir(self) -> Path:
        return self.root / "downloads"

    @property
    def prompts_dir(self) -> Path:
        return self.root / "prompts"

    @property
    def datasets_dir(self) -> Path:
        return self.root / "datasets"

    @property
    def runs_dir(self) -> Path:
        return self.root / "runs"

    def catalog(self):  # -> sqlite_utils.Database; imported lazily to keep --help fast
        """A new connection to the catalog. Use it as ``with ws.catalog() as db:``: the
        connection closes when the block ends, whatever happens in it."""
        from graftwork.core.base.catalog.db import open_catalog

        return open_catalog(self.db_path)

    @classmethod
    def init(cls, root: Path, recipe: str = "uebersicht", run_hint: str = "") -> Workspace:
        """Create (or complete) a workspace for ``recipe``; never overwrites an existing
        graftwork.yaml (the caller checks that its recipe is the one asked for). ``run_hint``:
        commented example lines under `run:` (the recipe's inputs of `graftwork run`)."""
        root = Path(root).expanduser().resolve()
        root.mkdir(parents=True, exist_ok=True)
        ws = cls(root)
        if not ws.config_path.exists():
            from graftwork.core.base.atomic import write_text

            hint = run_hint or DEFAULT_RUN_HINT
            write_text(ws.config_path, f"{_STARTER_HEAD}recipe: {recipe}\n{_STARTER_CONFIG}{hint}")
        for sub in SUBDIRS:
            (root / sub).mkdir(exist_ok=True)
        ws.catalog().close()
        return ws

    @classmethod
    def open(cls, root: Path) -> Workspace:
        root = Path(root).expanduser().resolve()
        if not (root / CONFIG_NAME).is_file():
            raise WorkspaceError(
                f"{root} is not a graftwork workspace (no {CONFIG_NAME}); run `graftwork init {root}`"
            )
        return cls(root)


def find_workspace(start: Path) -> Path | None:
    """The nearest folder at or above ``start`` that holds graftwork.yaml."""
    start = Path(start).resolve()
    for folder in (start, *start.parents):
        if (folder / CONFIG_NAME).is_file():
            return folder
    return None


# The workspace the current command resolved: the CLI's error boundary uses it to say who
# holds a locked catalog. One per process, like the command itself.
last_resolved: Workspace | None = None


def resolve_workspace(
    explicit: str | os.PathLike[str] | None = None, cwd: Path | None = None
) -> Workspace:
    """-w/--workspace, else $GRAFTWORK_WORKSPACE, else the nearest parent with graftwork.yaml."""
    global last_resolved
    last_resolved = _resolve(explicit, cwd)
    return last_resolved


def _resolve(explicit: str | os.PathLike[str] | None, cwd: Path | None) -> Workspace:
    if explicit:
        return Workspace.open(Path(explicit))
    env = os.environ.get(ENV_VAR)
    if env:
        return Workspace.open(Path(env))
    found = find_workspace(cwd or Path.cwd())
    if found is None:
        raise WorkspaceError(
            f"no workspace here: pass -w DIR, set {ENV_VAR}, or run `graftwork init DIR` first"
        )
    return Workspace(found)
