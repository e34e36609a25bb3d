"""Ship from the workstation: the Runs pane's ship key (remapped here through the keymap)
opens a form, the run goes through the registry's `ship` stage as a job in Runs, and the
folder is a real fused, quantized mlx model of a tiny llama run; shipping to the same folder
again asks first. Real mlx-lm in its child process, real catalog."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support import ship_world
from support.ship_world import make_trained_run
from textual.widgets import Button, Select

from graftwork.core.base.jobs import StageResult, run_job
from graftwork.tui.app import GraftworkApp
from graftwork.tui.commands import palette_commands
from graftwork.tui.screens.modals import ConfirmModal, FormModal
from graftwork.tui.training.ship_action import run_of
from graftwork.wiring import build_services
from tests.tui.fakes import with_fakes
from tests.tui.fixture_workspace import build_fixture
from tests.tui.helpers import main_screen, settle, until

pytestmark = pytest.mark.mlx

llama_world = ship_world.llama_world  # session fixture: tiny llama model + LoRA adapter
RUN = "20261201-100000-tiny-abcd"
SHIP_SECONDS = 240.0  # mlx-lm's fuse + quantize in a child process on a loaded machine
WAIT = 60.0  # generous: only a failing test waits this long


def _form_ready(app: GraftworkApp) -> bool:
    """The ship form is on top and composed (a pushed screen mounts its widgets after)."""
    return isinstance(app.screen, FormModal) and bool(app.screen.query("#form-ok"))


def _ship_jobs(screen) -> list:
    return [j for j in screen.runs_pane.jobs.values() if j.kind == "ship"]


async def test_ship_a_run_to_mlx_from_the_runs_pane(
    tmp_path: Path, llama_world: tuple[Path, Path]
) -> None:
    ws = build_fixture(tmp_path / "ws", keymap={"runs.ship": "S"})
    model, adapter = llama_world
    make_trained_run(ws, model, adapter, run_id=RUN)
    with ws.catalog() as db:  # a job that names the run (as `graftwork sample` records it)
        run_job(db, "sample", lambda job: StageResult(), {"run_id": RUN})
        job_id = db.execute("select id from jobs where kind = 'sample'").fetchone()[0]
    app = GraftworkApp(ws, with_fakes(build_services(ws)))
    async with app.run_test(size=(160, 50)) as pilot:
        screen = await main_screen(pilot)
        await pilot.press("4")
        await until(pilot, lambda: job_id in screen.runs_pane.jobs, timeout=WAIT)
        screen.runs_pane.select_job(job_id)
        await until(pilot, lambda: screen.runs_pane.selected_id == job_id, timeout=WAIT)
        # in the palette with its (remapped) key, and in the help's Runs keys
        helps = {c.title: c.help for c in palette_commands(screen)}
        assert helps["runs: ship a run"].endswith("key S in Runs")
        runs_keys = dict(app.binding_groups())["4 Runs"]
        assert "runs.ship" in {b.id for b in runs_keys}

        await pilot.press("S")
        await until(pilot, lambda: _form_ready(app), timeout=WAIT)
        form = app.screen
        assert form.query_one("#f-target", Select).value == "mlx"
        form.query_one("#f-quantize", Select).value = "4"
        app.screen.query_one("#form-ok", Button).press()  # no layout race, unlike a click
        # the job runs in Runs (followed there), and the end names the folder
        await until(pilot, lambda: bool(_ship_jobs(screen)), timeout=WAIT)
        await until(
            pilot,
            lambda: any("shipped" in n.message for n in app._notifications),
            timeout=SHIP_SECONDS,
        )
        out = ws.runs_dir / RUN / "ship" / "mlx-q4-best"
        note = next(n.message for n in app._notifications if "shipped" in n.message)
        assert note == f"shipped {RUN} as mlx to {out}"
        await until(pilot, lambda: _ship_jobs(screen)[0].state == "done", timeout=WAIT)
        assert screen.runs_pane.selected_id == _ship_jobs(screen)[0].id

        # shipping to the same folder again asks first; "no" starts nothing
        await pilot.press("S")
        await until(pilot, lambda: _form_ready(app), timeout=WAIT)
        assert app.screen.query_one("#f-target", Select).value == "mlx"
        app.screen.query_one("#f-quantize", Select).value = "4"
        app.screen.query_one("#form-ok", Button).press()  # no layout race, unlike a click
        await until(
            pilot,
            lambda: isinstance(app.screen, ConfirmModal) and bool(app.screen.query("#confirm-no")),
            timeout=WAIT,
        )
        assert str(out) in str(app.screen.body)
        await pilot.press("n")
        await settle(pilot)
        assert len(_ship_jobs(screen)) == 1

    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    assert config["quantization"]["bits"] == 4 and config["model_type"] == "llama"
    assert (out / "model.safetensors").is_file() or list(out.glob("model*.safetensors"))
    shipped = json.loads((out / "ship.json").read_text(encoding="utf-8"))
    assert (shipped["target"], shipped["run"], shipped["quantize"]) == ("mlx", RUN, 4)
    assert "# " in (out / "README.md").read_text(encoding="utf-8")  # the model card
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no staging left


def test_which_jobs_name_a_run() -> None:
    from graftwork.tui.data import JobRow

    def job(kind: str, params: dict) -> JobRow:
        return JobRow("j1", kind, "done", 1, 1, 0, "2026-12-01T10:00:00", None, params, None)

    assert run_of(job("train", {})) == ("j1", "mlx")  # the run the train job drove
    assert run_of(job("eval", {"run_id": "r1"})) == ("r1", "mlx")
    assert run_of(job("ship", {"run_id": "r1", "target": "gguf"})) == ("r1", "gguf")
    assert run_of(job("apple.train", {"set_name": "v1"})) == ("apple-j1", "fmadapter")
    assert run_of(job("budget", {})) is None and run_of(None) is None
