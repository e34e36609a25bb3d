"""TUI fixtures: the fixture workspace and an app built on it with the fake token counter."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from graftwork.core.base.workspace import Workspace
from graftwork.tui.app import GraftworkApp
from graftwork.wiring import build_services
from tests.tui.fakes import replace_stage, with_fakes
from tests.tui.fixture_workspace import build_fixture


@pytest.fixture
def fixture_ws(tmp_path: Path) -> Workspace:
    return build_fixture(tmp_path / "ws")


@pytest.fixture
def make_app(fixture_ws: Workspace, monkeypatch: pytest.MonkeyPatch) -> Callable[..., GraftworkApp]:
    """``make_app(ws=None, **replace)``: a key naming a Services field replaces that callable;
    a key naming a declared stage (``analyze``, ``ingest``, ...) replaces the stage's function
    with ``fn(*, job, **params)`` for this test (see fakes.replace_stage)."""

    def make(ws: Workspace | None = None, **replace: object) -> GraftworkApp:
        ws = ws or fixture_ws
        services = with_fakes(build_services(ws))
        for key, value in replace.items():
            if hasattr(services, key):
                setattr(services, key, value)
            else:
                replace_stage(monkeypatch, key, value)  # type: ignore[arg-type]
        return GraftworkApp(ws, services)

    return make
