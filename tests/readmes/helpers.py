"""Shared helpers of the readmes tests."""

from __future__ import annotations

from typing import Any

import yaml

from graftwork import wiring
from graftwork.core.base.jobs import StageResult, run_job
from graftwork.core.base.workspace import Workspace

PY_README = (
    "# Tool\n\nTool turns folders into reports. It is small and fast.\n\n"
    "## Install\n\n```bash\npip install tool\n```\n\n## License\n\nMIT\n"
)
PY_FILES: dict[str, Any] = {
    "README.md": PY_README,
    "pyproject.toml": '[project]\nname = "tool"\nlicense = "MIT"\n\n[project.scripts]\n'
    'tool = "tool.cli:main"\n',
    "src/tool/__init__.py": "",
    "src/tool/cli.py": "def main():\n    print('hi')\n",
}


def configure(ws: Workspace, **sections: Any) -> None:
    """Merge ``sections`` into the workspace's `readmes:` settings."""
    data = yaml.safe_load(ws.config_path.read_text(encoding="utf-8")) or {}
    readmes = data.get("readmes") or {}
    for key, value in sections.items():
        readmes[key] = {**(readmes.get(key) or {}), **value} if isinstance(value, dict) else value
    data["readmes"] = readmes
    ws.config_path.write_text(yaml.safe_dump(data), encoding="utf-8")


def collect(ws: Workspace, *sources: str, **kw: Any) -> StageResult:
    with ws.catalog() as db:
        return run_job(
            db, "collect", lambda job: wiring.collect(ws, sources=sources, job=job, **kw)
        )


def repo_row(ws: Workspace, rid: str) -> dict[str, Any]:
    with ws.catalog() as db:
        rows = list(db.query("SELECT * FROM readme_repos WHERE id = ?", [rid]))
    assert rows, f"no row for {rid}"
    return rows[0]
