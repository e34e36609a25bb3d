"""Ship from the workstation (Runs pane, key `s`, binding id runs.ship): the selected job's
run goes through the registry's `ship` stage as a job, like `graftwork ship`.

A form asks for target (mlx | gguf | ollama | fmadapter), adapter (best | last), quantize,
name and destination; a worker resolves the run and where it would go
(`core/ship/ship.destination`); when something is there already a confirmation asks before
replacing it (the stage's force). The job's progress and log stream in the Runs pane; when it
is done a notification names the folder (the log's last line says it too)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from rich.text import Text

from graftwork.core.base.workspace import Workspace
from graftwork.core.ship.ship import QUANTIZE_BITS, TARGETS
from graftwork.tui.data import JobRow
from graftwork.tui.screens.modals import ConfirmModal, Field, FormModal

# The main screen (tui/screens/main.MainScreen, which imports this module: typed loosely so
# there is no import cycle): runs_pane, app, notify, run_worker, start_stage(name, params, then).
MainScreen = Any

# Jobs that name a run: training, its samples, evaluations, judgements and earlier ships.
SHIPPABLE = ("train", "train.demo", "sample", "eval", "eval.judge", "ship", "apple.train")
NO_QUANTIZE = "none"


def run_of(job: JobRow | None) -> tuple[str, str] | None:
    """(the run or train job id to ship, the target the form starts with), None when the job
    names no run. An `apple train` job's run is its toolkit folder, shipped as .fmadapter."""
    if job is None or job.kind not in SHIPPABLE:
        return None
    if job.kind == "apple.train":
        return f"apple-{job.id}", "fmadapter"
    run = job.params.get("run_id") or job.params.get("run")
    target = str(job.params.get("target") or "mlx") if job.kind == "ship" else "mlx"
    return str(run or job.id), target


def ship_form(run: str, target: str) -> FormModal:
    return FormModal(
        f"Ship run {run}",
        [
            Field("target", "Target", target, kind="select", options=list(TARGETS)),
            Field("which", "Adapter", "best", kind="select", options=["best", "last"]),
            Field(
                "quantize",
                "Quantize (mlx only)",
                NO_QUANTIZE,
                kind="select",
                options=[NO_QUANTIZE, *map(str, QUANTIZE_BITS)],
            ),
            Field("name", "Name (Ollama model or .fmadapter; optional)", required=False),
            Field(
                "out",
                "Destination folder (optional; default runs/RUN/ship/TARGET-…)",
                required=False,
            ),
        ],
        ok="Ship",
    )


def ship_params(ws: Workspace, run: str, values: dict[str, Any]) -> dict[str, Any]:
    """The ship stage's parameters from the form (a relative destination is relative to the
    workspace, not to wherever the workstation was started)."""
    out = None
    if values.get("out"):
        path = Path(values["out"]).expanduser()
        out = path if path.is_absolute() else ws.root / path
    quantize = values.get("quantize") or NO_QUANTIZE
    return {
        "run_id": run,
        "target": values["target"],
        "which": values.get("which") or "best",
        "quantize": None if quantize == NO_QUANTIZE else int(quantize),
        "name": values.get("name") or None,
        "out": out,
        "force": False,
    }


def resolve(ws: Workspace, params: dict[str, Any]) -> tuple[dict[str, Any], Path, bool]:
    """(params with the run's own id, the destination, whether something is there). Runs in a
    worker thread with its own connection; an unknown run raises (one line)."""
    from graftwork.core.ship.ship import destination, occupied
    from graftwork.tui.training.data import run_or_job

    with ws.catalog() as db:
        run_id = params["run_id"]
        if params["target"] != "fmadapter":
            run_id = run_or_job(db, run_id)["id"]  # a train job's id names its run
        params = {**params, "run_id": run_id}
        keys = ("run_id", "target", "which", "quantize", "out")
        dest = destination(ws, db, **{k: params[k] for k in keys})
    return params, dest, occupied(dest)


def ship_selected(screen: MainScreen) -> None:
    """The `s` key: ship the run of the job selected in Runs. The job's parameters are read
    from the catalog (a job started in this window is listed before they are)."""
    rp = screen.runs_pane
    job = rp.jobs.get(rp.selected_id or "")
    if run_of(job) is None:
        screen.notify("Select a train, sample, eval or ship job in Runs first", severity="warning")
        return
    assert job is not None
    screen.run_worker(
        lambda: _read_job(screen, job.id),
        name="reading the job",
        group="ship-check",
        thread=True,
        exit_on_error=False,
    )


def _read_job(screen: MainScreen, job_id: str) -> None:
    from graftwork.tui.data import load_job

    with screen.app.ws.catalog() as db:
        got = run_of(load_job(db, job_id))
    if got is not None:
        screen.app.call_from_thread(_ask, screen, *got)


def _ask(screen: MainScreen, run: str, target: str) -> None:
    def submitted(values: dict[str, Any] | None) -> None:
        if values:
            params = ship_params(screen.app.ws, run, values)
            screen.run_worker(
                lambda: _check(screen, params),
                name="checking where to ship",
                group="ship-check",
                thread=True,
                exit_on_error=False,
            )

    screen.app.push_screen(ship_form(run, target), submitted)


def _check(screen: MainScreen, params: dict[str, Any]) -> None:
    params, dest, taken = resolve(screen.app.ws, params)
    screen.app.call_from_thread(_confirm, screen, params, dest, taken)


def _confirm(screen: MainScreen, params: dict[str, Any], dest: Path, taken: bool) -> None:
    if not taken:
        _start(screen, params)
        return

    def answered(yes: bool | None) -> None:
        if yes:
            _start(screen, {**params, "force": True})

    body = Text.assemble(
        (str(dest), "bold"),
        " exists. Replace it? The new one is built beside it and takes its place only once "
        "complete.",
    )
    screen.app.push_screen(ConfirmModal("Replace the shipped folder?", body), answered)


def _start(screen: MainScreen, params: dict[str, Any]) -> None:
    def shipped(result: Any) -> None:
        s = result.summary
        screen.notify(
            f"shipped {s['run']} as {s['target']} to {s['out']}", markup=False, timeout=15
        )

    screen.start_stage("ship", params, then=shipped)
