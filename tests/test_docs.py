"""docs/cli.md is generated from the commands' --help (`make docs`): it must match them."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _cli_docs():
    spec = importlib.util.spec_from_file_location("cli_docs", ROOT / "scripts" / "cli_docs.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("cli_docs", module)
    spec.loader.exec_module(module)
    return module


def test_cli_reference_is_current() -> None:
    docs = _cli_docs()
    written = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    assert written == docs.render(), "docs/cli.md is stale: run `make docs` and commit it"


def test_cli_reference_names_every_command() -> None:
    from graftwork.cli import COMMANDS

    written = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"## `graftwork {name}`" in written


def test_rendering_does_not_depend_on_the_terminal(monkeypatch) -> None:
    docs = _cli_docs()
    first = docs.render()
    monkeypatch.setenv("COLUMNS", "37")
    assert docs.render() == first
