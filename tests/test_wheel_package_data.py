"""The wheel carries what `init --recipe X` and the demos need (package data under
graftwork/), so they work outside a checkout: the real wheel is built with hatchling (the
project's build backend, no network), unpacked into a folder with no checkout around it, and
graftwork is run from there in a child process."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support.cli import run_cli

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from hatchling.builders.wheel import WheelBuilder

    out = tmp_path_factory.mktemp("wheel")
    wheel = next(iter(WheelBuilder(str(REPO)).build(directory=str(out), versions=["standard"])))
    site = out / "nowhere" / "site"  # no data/ or configs/ anywhere above the package
    with zipfile.ZipFile(wheel) as zf:
        zf.extractall(site)
    return site


def gw(site: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_cli(*args, cwd=cwd, env={"PYTHONPATH": str(site)})


def test_the_wheel_runs_from_outside_a_checkout(installed: Path, tmp_path: Path) -> None:
    probe = subprocess.run(
        [sys.executable, "-c", "import graftwork; print(graftwork.__file__)"],
        env={**os.environ, "PYTHONPATH": str(installed)},
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert Path(probe.stdout.strip()).is_relative_to(installed), probe.stderr


@pytest.mark.parametrize(
    ("recipe", "files"),
    [
        ("templates", {"spec.yaml", "words.txt"}),
        ("buckets", {"spec.yaml"}),
        ("plan", {"spec.yaml", "travel_cities.txt"}),
    ],
)
def test_init_writes_each_recipes_starter_files_from_the_wheel(
    installed: Path, tmp_path: Path, recipe: str, files: set[str]
) -> None:
    proc = gw(installed, tmp_path, "init", "ws", "--recipe", recipe)
    assert proc.returncode == 0, proc.stderr
    assert {line.removeprefix("wrote ") for line in proc.stdout.splitlines()[:-1]} == files
    assert all((tmp_path / "ws" / name).stat().st_size > 0 for name in files)
    if recipe != "plan":  # plan's run needs a teacher (tests/test_run_every_recipe.py)
        built = gw(installed, tmp_path, "-w", "ws", "run", "--set", "s1")
        assert built.returncode == 0, built.stderr
        assert (tmp_path / "ws" / "datasets" / "s1" / "train.jsonl").stat().st_size > 0
