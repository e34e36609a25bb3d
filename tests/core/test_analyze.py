"""analyze on a real workspace: jsx, coffee, plain js, nested folders, a deleted folder and a
non-UTF-8 file; then the CSV report. Widget sources are our own few-line examples."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from graftwork.core.analyze.analyze import REPORT_NAME, analyze, find_widget_folder, write_report
from graftwork.core.base.catalog.db import now
from graftwork.core.base.jobs import run_job
from graftwork.core.base.workspace import Workspace

JSX = 'import { css } from "uebersicht";\nexport const command = "date";\nexport const refreshFrequency = 60000;\nexport const className = css`top: 0;`;\nexport const render = ({ output }) => <div>{output}</div>;\n'


def add_item(
    db,
    ws: Workspace,
    item_id: str,
    files: dict[str, bytes | str] | None,
    *,
    order: int,
    status: str = "ok",
    manifest: dict | None = None,
) -> None:
    manifest = (
        manifest
        if manifest is not None
        else {"id": item_id, "name": item_id.title(), "description": f"shows {item_id}"}
    )
    stamp = now()
    db["items"].insert(
        {
            "id": item_id,
            "source": "uebersicht",
            "name": manifest.get("name", item_id),
            "author": "t",
            "description": manifest.get("description"),
            "manifest": json.dumps(manifest),
            "manifest_order": order,
            "added_at": stamp,
            "updated_at": stamp,
        }
    )
    db["downloads"].insert(
        {
            "item_id": item_id,
            "url": f"file:///x/{item_id}.zip",
            "status": status,
            "path": f"downloads/{item_id}",
            "attempts": 1,
            "downloaded_at": stamp,
        }
    )
    for rel, content in (files or {}).items():
        path = ws.downloads_dir / item_id / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, str):
            path.write_text(content, encoding="utf-8")
        else:
            path.write_bytes(content)


@pytest.fixture
def populated(workspace: Workspace):
    db = workspace.catalog()
    add_item(
        db,
        workspace,
        "clock",
        {
            "Clock.widget/index.jsx": JSX,
            "Clock.widget/lib/util.jsx": "export const x = 1;\n",
            "Clock.widget/README.md": "hi",
            "__MACOSX/Clock.widget/._index.jsx": b"\x00\x05\x16\x07\xff",
        },
        order=0,
        manifest={
            "id": "clock",
            "name": "Clock",
            "description": "A clock.",
            "downloadUrl": "u",
            "modifiedAt": 1,
        },
    )
    add_item(
        db,
        workspace,
        "coffee",
        {"coffee.widget/index.coffee": 'command: "uptime"\nrefreshFrequency: 5000\n'},
        order=1,
    )
    add_item(
        db, workspace, "plainjs", {"index.js": "module.exports = { command: 'ls' };\n"}, order=2
    )
    add_item(
        db,
        workspace,
        "nested",
        {"Nested/Nested.widget/index.jsx": JSX, "Nested/screenshot.png": b"\x89PNG"},
        order=3,
    )
    add_item(db, workspace, "gone", {"gone.widget/index.jsx": JSX}, order=4)
    add_item(
        db,
        workspace,
        "latin1",
        {"bad.widget/index.jsx": b"export const command = 'caf" + b"\xe9';\n"},
        order=5,
    )
    add_item(
        db,
        workspace,
        "nodl",
        None,
        order=6,
        status="failed",
        manifest={"id": "nodl", "name": "No download", "screenshotUrl": "s"},
    )
    add_item(db, workspace, "empty", {"README.md": "nothing here"}, order=7)
    import shutil

    shutil.rmtree(workspace.downloads_dir / "gone")
    return workspace, db


def test_analyze_workspace(populated) -> None:
    ws, db = populated
    logs: list[str] = []
    result = run_job(
        db,
        "analyze",
        lambda job: analyze(ws, job, db),
        listeners=[lambda e: logs.append(e.message) if e.type == "log" else None],
    )
    assert result.exit_code == 1
    failed = dict(result.failed)
    assert failed["gone"] == "download folder missing"
    assert (
        "index.jsx" in failed["latin1"]
        and "offset 27" in failed["latin1"]
        and "0xe9" in failed["latin1"]
    )
    assert set(failed) == {"gone", "latin1"}
    assert result.ok == 5 and dict(result.skipped) == {"nodl": "download failed"}
    assert any(m.startswith("latin1: index.jsx is not UTF-8") for m in logs)

    a = {r["item_id"]: r for r in db["analysis"].rows}
    clock = a["clock"]
    assert clock["kind"] == "jsx" and clock["is_jsx"] == 1 and clock["is_coffee"] == 0
    assert clock["folder"] == "clock/Clock.widget"
    files = {f["path"]: f["bytes"] for f in json.loads(clock["files"])}
    assert set(files) == {"index.jsx", "lib/util.jsx", "README.md"}  # macOS debris left out
    assert clock["file_count"] == 3 and clock["total_bytes"] == sum(files.values())
    assert clock["code_bytes"] == files["index.jsx"] + files["lib/util.jsx"]
    assert len(clock["code_sha256"]) == 64
    assert clock["command"] == "date" and clock["refresh_frequency"] == "60000"
    assert clock["styling"] == "emotion-css" and json.loads(clock["imports"]) == ["uebersicht"]
    assert json.loads(clock["facts"])["code_files"] == ["index.jsx", "lib/util.jsx"]

    assert (
        a["coffee"]["kind"] == "coffee"
        and a["coffee"]["is_coffee"] == 1
        and a["coffee"]["is_jsx"] == 0
    )
    assert a["coffee"]["command"] == "uptime" and a["coffee"]["refresh_frequency"] == "5000"
    assert a["coffee"]["code_sha256"] is None
    assert (
        a["plainjs"]["kind"] == "js"
        and a["plainjs"]["has_js"] == 1
        and a["plainjs"]["folder"] == "plainjs"
    )
    assert a["nested"]["folder"] == "nested/Nested/Nested.widget" and a["nested"]["kind"] == "jsx"
    assert a["empty"]["kind"] == "none" and a["empty"]["error"] is None
    assert a["gone"]["error"] == "download folder missing"
    assert a["latin1"]["error"].startswith("index.jsx is not UTF-8")
    assert "nodl" not in a

    job_row = next(db.query("SELECT state, failed FROM jobs WHERE kind = 'analyze'"))
    assert job_row == {"state": "partial", "failed": 2}


def test_same_code_same_hash_and_reanalysis_is_stable(populated) -> None:
    ws, db = populated
    run_job(db, "analyze", lambda job: analyze(ws, job, db))
    first = {r["item_id"]: r["code_sha256"] for r in db["analysis"].rows}
    run_job(db, "analyze", lambda job: analyze(ws, job, db))
    second = {r["item_id"]: r["code_sha256"] for r in db["analysis"].rows}
    assert first == second
    (ws.downloads_dir / "clock/Clock.widget/index.jsx").write_text(
        JSX + "// changed\n", encoding="utf-8"
    )
    run_job(db, "analyze", lambda job: analyze(ws, job, db))
    assert (
        next(db.query("SELECT code_sha256 FROM analysis WHERE item_id='clock'"))["code_sha256"]
        != first["clock"]
    )


def test_report_csv_columns_and_values(populated) -> None:
    ws, db = populated
    result = run_job(db, "analyze", lambda job: analyze(ws, job, db))
    path = ws.root / REPORT_NAME
    assert result.outputs == [path]
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    header = list(rows[0])
    # OS_* = union of manifest keys in first-seen order, then the seed's PS_ columns
    assert header[:5] == ["OS_id", "OS_name", "OS_description", "OS_downloadUrl", "OS_modifiedAt"]
    assert "OS_screenshotUrl" in header
    i = header.index("PS_iscoffee")
    assert header[i : i + 3] == ["PS_iscoffee", "PS_isJSX", "PS_widgetfoldername"]
    for col in (
        "PS_kind",
        "PS_command",
        "PS_styling",
        "PS_error",
        "AI_prompt_state",
        "AI_prompt",
        "CT_decision",
        "CT_note",
    ):
        assert col in header
    assert header.index("PS_error") < header.index("AI_prompt_state") < header.index("CT_decision")
    assert [r["OS_id"] for r in rows] == [
        "clock",
        "coffee",
        "plainjs",
        "nested",
        "gone",
        "latin1",
        "nodl",
        "empty",
    ]
    by_id = {r["OS_id"]: r for r in rows}
    assert (by_id["clock"]["PS_isJSX"], by_id["clock"]["PS_iscoffee"]) == ("Y", "N")
    assert (by_id["coffee"]["PS_isJSX"], by_id["coffee"]["PS_iscoffee"]) == ("N", "Y")
    assert by_id["clock"]["PS_widgetfoldername"] == "clock/Clock.widget"
    assert by_id["clock"]["OS_modifiedAt"] == "1"
    assert by_id["nodl"]["PS_download_status"] == "failed" and by_id["nodl"]["PS_isJSX"] == "N"
    assert by_id["gone"]["PS_error"] == "download folder missing"
    assert by_id["clock"]["AI_prompt"] == "" and by_id["clock"]["CT_decision"] == ""


def test_report_shows_prompt_and_curation(populated) -> None:
    from graftwork.core.curate.curation import set_decision
    from graftwork.core.prompts.prompts import add_revision

    ws, db = populated
    add_revision(
        db, "clock", "Create a clock.", origin="teacher", provenance={"model": "teacher-7b"}
    )
    add_revision(
        db,
        "clock",
        "Create a clock.",
        origin="teacher",
        state="accepted",
        provenance={"model": "teacher-7b"},
    )
    set_decision(db, "clock", "exclude", "too plain, has a comma")
    path = write_report(ws, db)
    with path.open(encoding="utf-8", newline="") as fh:
        clock = next(r for r in csv.DictReader(fh) if r["OS_id"] == "clock")
    assert clock["AI_prompt_state"] == "accepted" and clock["AI_prompt_rev"] == "2"
    assert clock["AI_prompt_origin"] == "teacher" and clock["AI_teacher_model"] == "teacher-7b"
    assert clock["AI_prompt"] == "Create a clock."
    assert clock["CT_decision"] == "exclude" and clock["CT_note"] == "too plain, has a comma"


def test_binary_appledouble_jsx_inside_the_widget_folder_is_ignored(workspace: Workspace) -> None:
    # build concatenates every .jsx under the folder; a resource-fork `._index.jsx` is macOS
    # metadata, so the code loader skips it and the widget analyzes cleanly from index.jsx alone
    db = workspace.catalog()
    add_item(
        db,
        workspace,
        "fork",
        {"fork.widget/index.jsx": JSX, "fork.widget/._index.jsx": b"\x00\x05\x16\x07\x00\x02\xff"},
        order=0,
    )
    result = run_job(db, "analyze", lambda job: analyze(workspace, job, db))
    assert result.failed == []
    row = next(db.query("SELECT files, error, is_jsx FROM analysis WHERE item_id = 'fork'"))
    assert [f["path"] for f in json.loads(row["files"])] == ["index.jsx"]
    assert row["error"] is None and row["is_jsx"] == 1


def test_find_widget_folder_prefers_the_shallowest_widget_dir(tmp_path: Path) -> None:
    for rel in (
        "A/B.widget/index.jsx",
        "A/B.widget/inner.widget/index.jsx",
        "Z.widget/index.jsx",
        "src/index.jsx",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x", encoding="utf-8")
    folder, candidates = find_widget_folder(tmp_path)
    assert folder == tmp_path / "Z.widget"
    assert [c.relative_to(tmp_path).as_posix() for c in candidates] == [
        "Z.widget",
        "A/B.widget",
        "A/B.widget/inner.widget",
    ]


def test_an_item_that_raises_fails_alone_and_the_rest_go_on(
    populated, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Mocked: as root (CI) no file can be made unreadable, and no known input breaks the
    # scanner any more; a fact scanner that raises stands in for both.
    import graftwork.core.analyze.analyze as analyze_mod

    real = analyze_mod.extract_facts

    def flaky(source: str, kind: str = "jsx"):
        if "uptime" in source:
            raise PermissionError(13, "Permission denied", "coffee.widget/index.coffee")
        return real(source, kind)

    monkeypatch.setattr(analyze_mod, "extract_facts", flaky)
    ws, db = populated
    result = run_job(db, "analyze", lambda job: analyze(ws, job, db))
    failed = dict(result.failed)
    assert "Permission denied" in failed["coffee"] and "index.coffee" in failed["coffee"]
    assert result.ok == 4 and set(failed) == {"gone", "latin1", "coffee"}
    assert db["analysis"].get("coffee")["error"] == failed["coffee"]
    assert (ws.root / REPORT_NAME).is_file()
