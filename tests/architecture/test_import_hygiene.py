"""Dependencies point one way: tui -> core <- adapters. core never imports UI, HTTP or ML libs."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[2] / "graftwork"
FORBIDDEN_IN_CORE = (
    "textual",
    "rich",
    "httpx",
    "openai",
    "mlx",
    "mlx_lm",
    "transformers",
    "tiktoken",
)


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path", sorted((PKG / "core").rglob("*.py")), ids=lambda p: str(p.relative_to(PKG))
)
def test_core_never_imports_ui_http_or_ml(path: Path) -> None:
    bad = {
        n
        for n in _imports(path)
        if n.split(".")[0] in FORBIDDEN_IN_CORE
        or n.startswith(("graftwork.tui", "graftwork.adapters", "graftwork.commands"))
    }
    assert not bad, f"{path} imports {sorted(bad)}"


@pytest.mark.parametrize(
    "path", sorted((PKG / "tui").rglob("*.py")), ids=lambda p: str(p.relative_to(PKG))
)
def test_tui_never_imports_adapters(path: Path) -> None:
    bad = {
        n
        for n in _imports(path)
        if n.startswith("graftwork.adapters") or n.split(".")[0] in ("openai", "mlx_lm", "httpx")
    }
    assert not bad, f"{path} imports {sorted(bad)}"


def test_importing_core_and_cli_loads_no_heavy_library() -> None:
    code = (
        "import sys, graftwork.cli, graftwork.core.base.jobs, graftwork.core.base.config, graftwork.core.base.catalog.db\n"
        "heavy = [m for m in ('textual', 'openai', 'mlx', 'mlx_lm', 'httpx', 'transformers') if m in sys.modules]\n"
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_help_lists_every_command() -> None:
    from graftwork.cli import COMMANDS

    out = subprocess.run(
        [sys.executable, "-m", "graftwork", "--help"], capture_output=True, text=True
    )
    assert out.returncode == 0, out.stderr
    for name in COMMANDS:
        assert name in out.stdout
