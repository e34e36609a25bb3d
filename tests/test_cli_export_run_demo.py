"""`graftwork export`, `run` and `demo` end to end, in subprocesses (real exit codes)."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from support.apple_sets import write_set
from support.tiny_model import tiny_model_dir  # noqa: F401  (session fixture)

from graftwork.commands.run import StageFailed, Step, run_steps
from graftwork.core import demo, stages
from graftwork.core.base.errors import ConfigError
from graftwork.core.base.jobs import Job, StageResult
from graftwork.core.base.workspace import Workspace
from graftwork.core.stages import Param, StageSpec, run_stage


def graftwork(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "COLUMNS": "200", "HF_HUB_OFFLINE": "1"}
    env.pop("GRAFTWORK_WORKSPACE", None)
    return subprocess.run(
        [sys.executable, "-m", "graftwork", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=300,
    )


def set_ids(ws_root: Path, name: str) -> list[str]:
    manifest = json.loads((ws_root / "datasets" / name / "manifest.json").read_text())
    return [item["id"] for item in manifest["items"]]


# -- export ------------------------------------------------------------------------------------


def test_export_writes_the_default_folder(workspace: Workspace) -> None:
    write_set(workspace)
    proc = graftwork("-w", str(workspace.root), "export", "--set", "demo", "--format", "mlx-chat")
    assert proc.returncode == 0, proc.stderr
    out = workspace.datasets_dir / "demo" / "export" / "mlx-chat"
    assert "exported 5 example(s) of set demo as mlx-chat (train 3, valid 1, test 1)" in proc.stdout
    rows = [json.loads(x) for x in (out / "train.jsonl").read_text().splitlines()]
    assert len(rows) == 3 and all("parameters" in r["tools"][0]["function"] for r in rows)


def test_export_unknown_set_exits_2_with_a_message(workspace: Workspace) -> None:
    proc = graftwork("-w", str(workspace.root), "export", "--set", "nope", "--format", "apple")
    assert proc.returncode == 2
    assert proc.stderr.count("unknown set 'nope'") == 1
    assert "Traceback" not in proc.stderr


def test_export_unknown_format_is_a_usage_error(workspace: Workspace) -> None:
    write_set(workspace)
    proc = graftwork("-w", str(workspace.root), "export", "--set", "demo", "--format", "csv")
    assert proc.returncode == 2
    assert "csv" in proc.stderr


def test_export_with_a_broken_line_exits_1_naming_it(workspace: Workspace, tmp_path: Path) -> None:
    folder = write_set(workspace)
    with (folder / "valid.jsonl").open("a") as fh:
        fh.write('[{"role": "user", "content": "hi"}]\n')
    out = tmp_path / "alpaca-out"
    proc = graftwork(
        "-w",
        str(workspace.root),
        "export",
        "--set",
        "demo",
        "--format",
        "alpaca",
        "--out",
        str(out),
    )
    assert proc.returncode == 1
    assert (
        "valid-0002: valid.jsonl line 2: the first message must be the system message"
        in proc.stderr
    )
    assert len((out / "valid.jsonl").read_text().splitlines()) == 1


@pytest.mark.mlx
@pytest.mark.slow
def test_mlx_lm_lora_trains_on_the_mlx_chat_export(
    workspace: Workspace,
    tmp_path: Path,
    tiny_model_dir: Path,  # noqa: F811  (the imported fixture)
) -> None:
    write_set(workspace)
    assert (
        graftwork(
            "-w", str(workspace.root), "export", "--set", "demo", "--format", "mlx-chat"
        ).returncode
        == 0
    )
    data = workspace.datasets_dir / "demo" / "export" / "mlx-chat"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mlx_lm",
            "lora",
            "--model",
            str(tiny_model_dir),
            "--data",
            str(data),
            "--train",
            "--iters",
            "1",
            "--batch-size",
            "1",
            "--num-layers",
            "1",
            "--val-batches",
            "1",
            "--steps-per-report",
            "1",
            "--adapter-path",
            str(tmp_path / "adapter"),
            "--max-seq-length",
            "1024",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "HF_HUB_OFFLINE": "1"},
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    assert (tmp_path / "adapter" / "adapters.safetensors").is_file()


# -- run: stage machinery ----------------------------------------------------------------------


def toy_stage(
    ws: Workspace, *, job: Job, log: list[str], fail: Exception | None = None, items: int = 0
) -> StageResult:
    """A stage for these tests, declared (in `toy` below) like any other."""
    log.append(job.kind)
    if fail is not None:
        raise fail
    result = StageResult(ok=1)
    for n in range(items):
        job.item_failed(f"w{n}", "broken")
        result.failed.append((f"w{n}", "broken"))
    return result


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> None:
    stages.get_stage("ingest")  # the real declarations first, then ours beside them
    params = (Param("log", list), Param("fail", object), Param("items", int, 0))
    for name in ("one", "two", "three", "boom"):
        spec = StageSpec(f"toy.{name}", name, f"{__name__}:toy_stage", params=params)
        monkeypatch.setitem(stages.STAGES, spec.name, spec)


def _stage(name: str, log: list[str], *, fail: Exception | None = None, items: int = 0) -> Step:
    return Step(f"toy.{name}", {"log": log, "fail": fail, "items": items})


@pytest.mark.usefixtures("toy")
def test_run_stops_at_the_first_stage_failure(workspace: Workspace) -> None:
    log: list[str] = []
    steps = [
        _stage("one", log),
        _stage("two", log, fail=ConfigError("graftwork.yaml: key 'x'")),
        _stage("three", log),
    ]
    with pytest.raises(StageFailed, match=r"stage 'two' failed: graftwork\.yaml: key 'x'") as info:
        run_steps(workspace, steps)
    assert info.value.exit_code == 2  # a config error keeps its exit code
    assert log == ["toy.one", "toy.two"]
    db = workspace.catalog()
    states = [r[0] for r in db.execute("select state from jobs order by started_at")]
    assert states == ["done", "failed"]


@pytest.mark.usefixtures("toy")
def test_run_goes_on_past_item_failures(workspace: Workspace) -> None:
    log: list[str] = []
    results = run_steps(workspace, [_stage("one", log, items=2), _stage("two", log)])
    assert log == ["toy.one", "toy.two"]
    assert [len(r.failed) for _, r in results] == [2, 0]


@pytest.mark.usefixtures("toy")
def test_unexpected_exception_is_exit_1(workspace: Workspace) -> None:
    with pytest.raises(StageFailed) as info:
        run_steps(workspace, [_stage("boom", [], fail=RuntimeError("disk on fire"))])
    assert info.value.exit_code == 1


# -- run: the real pipeline --------------------------------------------------------------------


def test_run_cli_bad_manifest_names_the_stage(workspace: Workspace, tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("not json")
    proc = graftwork("-w", str(workspace.root), "run", "--manifest", str(bad), "--set", "s")
    assert proc.returncode == 2
    assert "stage 'ingest' failed" in proc.stderr
    assert proc.stderr.count("not valid JSON") == 1  # said once, not twice
    assert not (workspace.datasets_dir / "s").exists()


def test_run_cli_builds_a_set_and_reports_item_failures(tmp_path: Path) -> None:
    plan = demo.prepare(tmp_path / "ws")
    manifest = json.loads(plan.manifest.read_text())
    manifest["widgets"][0]["downloadUrl"] = (tmp_path / "missing.zip").as_uri()
    broken = tmp_path / "manifest.json"
    broken.write_text(json.dumps(manifest))
    first = manifest["widgets"][0]["id"]

    proc = graftwork("-w", str(plan.ws.root), "run", "--manifest", str(broken), "--set", "s1")
    assert proc.returncode == 1, proc.stderr
    assert f"ingest: {first}:" in proc.stderr  # the failed widget is named under its stage
    assert (plan.ws.datasets_dir / "s1" / "train.jsonl").is_file()
    assert first not in set_ids(plan.ws.root, "s1")

    again = graftwork(
        "-w", str(plan.ws.root), "run", "--manifest", str(plan.manifest), "--set", "s1"
    )
    assert again.returncode == 2 and "stage 'build' failed" in again.stderr  # never overwrites
    forced = graftwork(
        "-w", str(plan.ws.root), "run", "--manifest", str(plan.manifest), "--set", "s1", "--force"
    )
    assert forced.returncode == 0, forced.stderr
    assert first in set_ids(plan.ws.root, "s1")


# -- demo ----------------------------------------------------------------------------------------


def test_prepare_is_reproducible_and_serves_file_urls(tmp_path: Path) -> None:
    plan = demo.prepare(tmp_path / "ws")
    entries = json.loads(plan.manifest.read_text())["widgets"]
    assert {e["id"] for e in entries} == set(plan.widget_ids)
    assert len(entries) >= 8
    first = {}
    for entry in entries:
        assert entry["downloadUrl"].startswith("file://")
        archive = Path(entry["downloadUrl"].removeprefix("file://"))
        assert zipfile.ZipFile(archive).testzip() is None
        assert all(n.split("/")[0].endswith(".widget") for n in zipfile.ZipFile(archive).namelist())
        first[entry["id"]] = archive.read_bytes()
        assert (
            Path(entry["screenshotUrl"].removeprefix("file://")).read_bytes().startswith(b"\x89PNG")
        )
    demo.prepare(tmp_path / "ws")
    for entry in entries:
        assert Path(entry["downloadUrl"].removeprefix("file://")).read_bytes() == first[entry["id"]]


def test_prepare_rejects_a_sample_without_its_widget_folder(tmp_path: Path) -> None:
    sample = tmp_path / "sample"
    (sample / "widgets" / "Only").mkdir(parents=True)
    (sample / "manifest.json").write_text(
        json.dumps({"widgets": [{"id": "Only"}, {"id": "Ghost"}]})
    )
    with pytest.raises(demo.DemoError, match="no folder for manifest id"):
        demo.prepare(tmp_path / "ws", sample)


def test_sample_widgets_cover_the_cases_the_demo_shows() -> None:
    widgets = demo.sample_dir() / "widgets"
    files = [p.relative_to(widgets).as_posix() for p in widgets.rglob("*") if p.is_file()]
    assert any(f.endswith(".coffee") for f in files)
    assert any(f.endswith("index.js") for f in files)
    assert any("/lib/" in f and f.endswith(".jsx") for f in files)
    big = widgets / "WorldClockAtlas"
    assert sum(p.stat().st_size for p in big.rglob("*.jsx")) > 4095 * 3  # well over budget


def test_demo_never_takes_over_a_folder_it_did_not_make(tmp_path: Path) -> None:
    real = Workspace.init(tmp_path / "real-ws")
    proc = graftwork("demo", "--no-tui", "--dir", str(real.root))
    assert proc.returncode == 2
    assert "not empty and was not made by `graftwork demo`" in proc.stderr
    assert not (real.root / "sample").exists()
    assert demo.prepare(tmp_path / "fresh").ws.root == (tmp_path / "fresh").resolve()
    demo.prepare(tmp_path / "fresh")  # its own folder: reused


def test_demo_runs_the_training_hook_when_wiring_provides_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from graftwork import wiring
    from graftwork.commands.demo import demo_steps

    plan = demo.prepare(tmp_path / "ws")
    monkeypatch.delattr(wiring, "demo_train", raising=False)
    assert [s.title for s in demo_steps(plan)][-1] == "export mlx-chat"

    calls: list[tuple[str, str]] = []

    def fake_train(ws: Workspace, set_name: str, *, job: Job) -> StageResult:
        calls.append((str(ws.root), set_name))
        return StageResult(ok=1)

    monkeypatch.setattr(wiring, "demo_train", fake_train, raising=False)
    last = demo_steps(plan)[-1]
    assert run_stage(plan.ws, last.stage, last.params).ok == 1
    assert calls == [(str(plan.ws.root), "demo")]
    with plan.ws.catalog() as db:
        assert [r[0] for r in db.execute("select kind from jobs")] == ["train"]


DEMO_LINES_SHA256 = "885aa33febc95eb2f30894598ec845c90337b612a183d8906526e2663c570a9a"


@pytest.mark.slow
def test_demo_runs_end_to_end_and_again(tmp_path: Path) -> None:
    target = tmp_path / "demo ws"  # a space in the path must survive the file:// URLs
    proc = graftwork("demo", "--no-tui", "--dir", str(target), cwd=tmp_path)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    set_dir = target / "datasets" / "demo"
    for split in ("train", "valid", "test"):
        assert (set_dir / f"{split}.jsonl").is_file()
    ids = set_ids(target, "demo")
    assert len(ids) >= 5
    assert "WorldClockAtlas" not in ids  # over the 4095-token budget
    assert "UptimeCoffee" not in ids and "PlainClock" not in ids  # not JSX
    assert "over budget, excluded: WorldClockAtlas" in proc.stdout
    assert "UptimeCoffee (coffee)" in proc.stdout
    text = "".join((set_dir / f"{s}.jsonl").read_text() for s in ("train", "valid", "test"))
    assert "index.coffee" not in text and "Intl.DateTimeFormat" not in text
    assert "// File: lib/format.jsx" in text  # the multi-file widget is concatenated
    # Golden: the Übersicht recipe writes exactly the lines it wrote before examples became
    # source-neutral (sha256 of the set's lines, sorted, each ending in a newline).
    lines = sorted(text.splitlines(keepends=True))
    assert hashlib.sha256("".join(lines).encode()).hexdigest() == DEMO_LINES_SHA256
    export_rows = sum(
        len((set_dir / "export" / "mlx-chat" / f"{s}.jsonl").read_text().splitlines())
        for s in ("train", "valid", "test")
        if (set_dir / "export" / "mlx-chat" / f"{s}.jsonl").exists()
    )
    assert export_rows == len(ids)
    before = (set_dir / "train.jsonl").read_bytes()
    with Workspace(target).catalog() as db:
        jobs = [tuple(r) for r in db.execute("select kind, state from jobs order by started_at")]
    kinds = ["ingest", "analyze", "prompts.import", "prompts.draft", "budget", "build", "export"]
    assert jobs[: len(kinds)] == [(k, "done") for k in kinds]  # the Runs pane sees every stage

    again = graftwork("demo", "--no-tui", "--dir", str(target), cwd=tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    assert (set_dir / "train.jsonl").read_bytes() == before
