"""The stage registry: every interface starts declared stages through `run_stage`, so a stage
records one job kind and has one set of side effects, whichever interface started it."""

from __future__ import annotations

import ast
import csv
import re
from pathlib import Path

import pytest
from support.widget_rows import add_widget

from graftwork.core import stages
from graftwork.core.base.workspace import Workspace
from graftwork.core.stages import StageInputError, get_stage, run_stage
from graftwork.wiring import build_services

PACKAGE = Path(stages.__file__).resolve().parents[1]
INTERFACES = [
    *sorted((PACKAGE / "commands").glob("*.py")),
    *sorted((PACKAGE / "tui").rglob("*.py")),
    PACKAGE / "wiring.py",
]
# calls that start a stage by name, and where the name is among their positional arguments
STARTERS = {
    "run_stage",
    "run_with_progress",
    "_confirm_and_run",
    "start_stage",
    "action_start",
    "Step",
}


def _stage_names_started(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
        if name in STARTERS:
            # run_stage(ws, "x", ...) or services.run_stage("x", ...): the first string
            for arg in node.args[:2]:
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    found.append((node.lineno, arg.value))
                    break
    return found


def test_every_interface_starts_declared_stages_only() -> None:
    declared = {spec.name for spec in stages.all_stages()}
    started: set[str] = set()
    for path in INTERFACES:
        text = path.read_text(encoding="utf-8")
        names = _stage_names_started(path)
        # key bindings and palette entries name stages as strings: screen.start('x')
        names += [(0, m) for m in re.findall(r"start\('([^']+)'\)", text)]
        for line, name in names:
            assert name in declared, f"{path.name}:{line}: starts undeclared stage {name!r}"
            started.add(name)
        # a job started by hand would pick its own kind: only core.stages.run_stage runs jobs
        assert "run_job(" not in text, f"{path.name} runs a job by hand instead of run_stage"
    # every CLI stage command and workstation action above reaches the registry
    assert {"ingest", "analyze", "prompts.draft", "budget", "build", "export"} <= started
    assert {
        "prompts.import",
        "prompts.export",
        "train",
        "sample",
        "teach",
        "apple.train",
    } <= started
    assert "train.demo" in started
    # the plan recipe's commands (`plan`, `teach drafts|critiques|refine`, `qa`, `split`)
    assert {"plan", "qa", "split", "eval", "import"} <= started
    assert {"collect", "chunk", "teach.instructions", "records"} <= started  # readmes
    assert any(re.search(r'f"teach\.\{stage\}"', p.read_text()) for p in INTERFACES)


def test_workstation_stage_keys_name_declared_stages() -> None:
    from graftwork.tui.widgets.runs_pane import RunsPane

    actions = [b.action for b in RunsPane.BINDINGS if b.action.startswith("screen.start(")]
    assert actions, "the Runs pane starts stages"
    for action in actions:
        name = action.removeprefix("screen.start('").removesuffix("')")
        assert get_stage(name).name == name


def test_run_stage_records_the_declared_kind_and_every_param(workspace: Workspace) -> None:
    result = run_stage(workspace, "prompts.draft")
    assert result.ok == 0
    with workspace.catalog() as db:
        rows = list(db.query("select kind, state, params from jobs"))
    assert [(r["kind"], r["state"]) for r in rows] == [("prompts.draft", "done")]
    assert get_stage("train.demo").job_kind == "train"  # the demo's training is a train job


def test_a_missing_required_input_names_its_flag(workspace: Workspace) -> None:
    with pytest.raises(StageInputError, match="build needs --set") as info:
        run_stage(workspace, "build", {"force": True})
    assert info.value.exit_code == 2
    with workspace.catalog() as db:
        assert db["jobs"].count == 0  # said before any job starts


def test_an_undeclared_param_is_a_programming_error(workspace: Workspace) -> None:
    with pytest.raises(TypeError, match="takes no parameter"):
        run_stage(workspace, "analyze", {"fast": True})


def test_teach_jobs_record_the_endpoint_without_credentials() -> None:
    spec = get_stage("teach")
    bound = spec.bind({"overrides": {"base_url": "http://me:secret@h:8080/v1?k=1", "model": None}})
    recorded = spec.recorded(bound)
    assert recorded["overrides"] == {"base_url": "http://h:8080/v1"}
    assert "secret" not in repr(recorded)


def _report(ws: Workspace) -> dict[str, str]:
    """The report's only row (one widget), by column."""
    with (ws.root / "widget_processing_results.csv").open(encoding="utf-8") as fh:
        (row,) = list(csv.DictReader(fh))
    return row


def test_curation_from_the_workstation_rewrites_the_report(workspace: Workspace) -> None:
    """`graftwork curate` rewrote widget_processing_results.csv; the workstation did not."""
    services = build_services(workspace)
    with workspace.catalog() as db:
        add_widget(db, workspace, "clock")
        services.set_decision(db, "clock", "exclude", "too big")
        report = _report(workspace)
        assert (report["CT_decision"], report["CT_note"]) == ("exclude", "too big")
        services.add_revision(db, "clock", "Create a clock widget.", origin="tui")
        assert _report(workspace)["AI_prompt"] == "Create a clock widget."
