"""analyze, prompts and curate through the real command line (graftwork.cli.main): exit codes
0 (all good), 1 (some items failed) and 2 (usage errors), and what each command writes."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from graftwork.cli import main
from graftwork.core.base.catalog.db import now
from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts import prompts

JSX = 'export const command = "uptime";\nexport const refreshFrequency = 10000;\nexport const render = ({ output }) => <div className="up">{output}</div>;\n'


def run(ws: Workspace, *args: str) -> int:
    try:
        main(["-w", str(ws.root), *args])
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def add_item(ws: Workspace, item_id: str, files: dict[str, bytes | str], order: int) -> None:
    db = ws.catalog()
    stamp = now()
    db["items"].insert(
        {
            "id": item_id,
            "source": "uebersicht",
            "name": item_id.title(),
            "author": "t",
            "description": f"Shows {item_id}",
            "manifest": json.dumps({"id": item_id, "name": item_id.title()}),
            "manifest_order": order,
            "added_at": stamp,
            "updated_at": stamp,
        }
    )
    db["downloads"].insert(
        {"item_id": item_id, "status": "ok", "path": f"downloads/{item_id}", "downloaded_at": stamp}
    )
    for rel, content in files.items():
        p = ws.downloads_dir / item_id / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(content.encode() if isinstance(content, str) else content)
    db.close()


@pytest.fixture
def ws(workspace: Workspace) -> Workspace:
    add_item(workspace, "uptime", {"uptime.widget/index.jsx": JSX}, 0)
    add_item(workspace, "load", {"Load/load.widget/index.jsx": JSX}, 1)
    add_item(workspace, "old", {"old.widget/index.coffee": 'command: "date"\n'}, 2)
    return workspace


def csv_rows(ws: Workspace) -> dict[str, dict[str, str]]:
    with (ws.root / "widget_processing_results.csv").open(encoding="utf-8", newline="") as fh:
        return {r["OS_id"]: r for r in csv.DictReader(fh)}


def test_analyze_ok_then_a_failure_gives_exit_1(ws: Workspace, capsys) -> None:
    assert run(ws, "analyze") == 0
    out = capsys.readouterr().out
    assert "analyzed 3 item(s) (1 coffee, 2 jsx)" in out
    rows = csv_rows(ws)
    assert (
        rows["load"]["PS_widgetfoldername"] == "load/Load/load.widget"
        and rows["load"]["PS_isJSX"] == "Y"
    )
    assert rows["old"]["PS_iscoffee"] == "Y"

    (ws.downloads_dir / "uptime/uptime.widget/index.jsx").write_bytes(b"export const a = '\xff';\n")
    assert run(ws, "analyze") == 1
    err = capsys.readouterr().err
    assert "uptime: index.jsx is not UTF-8 (byte 0xff at offset 18)" in err
    assert csv_rows(ws)["load"]["PS_kind"] == "jsx"  # the others were still analyzed


def test_prompts_lifecycle(ws: Workspace, capsys, tmp_path: Path) -> None:
    assert run(ws, "analyze") == 0
    assert run(ws, "prompts", "draft") == 0
    assert "drafted 2 prompt(s)" in capsys.readouterr().out
    assert csv_rows(ws)["uptime"]["AI_prompt_state"] == "draft"

    assert run(ws, "prompts", "set", "uptime", "--text", "Create an uptime widget.") == 0
    f = tmp_path / "p.txt"
    f.write_text("Create an uptime widget, refreshed every 10 s.\n", encoding="utf-8")
    assert run(ws, "prompts", "set", "uptime", "--file", str(f), "--note", "more detail") == 0
    assert run(ws, "prompts", "accept", "uptime") == 0
    capsys.readouterr()
    assert run(ws, "prompts", "show", "uptime", "--history") == 0
    out = capsys.readouterr().out
    assert "# rev 1 · draft · template" in out and "# rev 4 · accepted · manual" in out
    assert "Create an uptime widget." in out
    row = csv_rows(ws)["uptime"]
    assert (row["AI_prompt_state"], row["AI_prompt_rev"], row["AI_prompt_origin"]) == (
        "accepted",
        "4",
        "manual",
    )

    assert run(ws, "prompts", "export") == 0
    assert (ws.prompts_dir / "uptime.prompt").read_text(
        encoding="utf-8"
    ) == "Create an uptime widget, refreshed every 10 s.\n"
    assert (ws.prompts_dir / "load.prompt").is_file()

    (ws.prompts_dir / "ghost.prompt").write_text("boo", encoding="utf-8")
    (ws.prompts_dir / "load.prompt").write_text("Create a load meter.", encoding="utf-8")
    assert run(ws, "prompts", "import", str(ws.prompts_dir)) == 1
    captured = capsys.readouterr()
    assert "ghost: ghost.prompt: unknown item id" in captured.err
    assert "imported 1 prompt(s); 1 unchanged; 1 failed" in captured.out
    with ws.catalog() as db:
        assert prompts.current(db, "load")["origin"] == "import"

    assert run(ws, "prompts", "reject", "load", "--note", "vague") == 0
    with ws.catalog() as db:
        assert prompts.current(db, "load")["state"] == "rejected"
    capsys.readouterr()
    assert run(ws, "prompts", "list", "--state", "rejected") == 0
    listed = capsys.readouterr()
    assert listed.out.splitlines() == ["load\t3\trejected\timport\tCreate a load meter."]
    assert "1 prompt(s)" in listed.err


def test_prompts_usage_errors_exit_2(ws: Workspace, capsys, tmp_path: Path) -> None:
    assert run(ws, "prompts", "set", "ghost", "--text", "x") == 2
    assert "ghost: unknown item id" in capsys.readouterr().err
    assert run(ws, "prompts", "set", "uptime") == 2
    assert run(ws, "prompts", "set", "uptime", "--text", "a", "--file", __file__) == 2
    assert run(ws, "prompts", "accept", "ghost") == 2
    assert run(ws, "prompts", "show", "ghost") == 2
    assert run(ws, "prompts", "import", str(tmp_path / "missing")) == 2
    assert run(ws, "prompts", "accept", "uptime") == 1  # a known item without a prompt yet
    assert "uptime: has no prompt yet" in capsys.readouterr().err


def test_curate(ws: Workspace, capsys) -> None:
    assert run(ws, "curate", "uptime", "--exclude", "--note", "too small") == 0
    assert run(ws, "curate", "load", "--needs-work") == 0
    assert run(ws, "curate", "load", "--include") == 0
    capsys.readouterr()
    assert run(ws, "curate", "--list") == 0
    captured = capsys.readouterr()
    lines = [line.split("\t")[:3] for line in captured.out.splitlines()]
    assert lines == [["load", "include", ""], ["uptime", "exclude", "too small"]]
    assert "2 decision(s)" in captured.err
    rows = csv_rows(ws)
    assert (rows["uptime"]["CT_decision"], rows["uptime"]["CT_note"]) == ("exclude", "too small")
    assert run(ws, "curate", "uptime", "--clear") == 0
    assert csv_rows(ws)["uptime"]["CT_decision"] == ""
    assert ws.catalog()["curation_history"].count == 4

    assert run(ws, "curate", "ghost", "--include") == 2
    assert "ghost: unknown item id" in capsys.readouterr().err
    assert run(ws, "curate", "uptime") == 2  # no decision given
    assert run(ws, "curate", "uptime", "--include", "--clear") == 2
    assert run(ws, "curate") == 2


def test_subprocess_exit_code(ws: Workspace) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "graftwork", "-w", str(ws.root), "curate", "nobody", "--exclude"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2 and "nobody: unknown item id" in proc.stderr
