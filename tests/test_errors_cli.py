"""The CLI's error boundary: every failure is one line on stderr with exit 1 (items) or 2
(usage, configuration, environment); a traceback only with --debug. Real SQLite files, real
read-only folders (tests/support/readonly), the real entry point in-process."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from support.cli import one_line, run_main
from support.http_server import LocalServer
from support.readonly import read_only
from support.zips import widget_zip

from graftwork.core.base.workspace import Workspace


def test_non_utf8_config_is_one_line_exit_2(
    workspace: Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    workspace.config_path.write_bytes(b"project:\n  seed: 7 # \xe9t\xe9\n")
    assert run_main(workspace, "budget") == 2
    line = one_line(capsys.readouterr().err)
    assert "graftwork.yaml" in line and "not UTF-8" in line


def test_unexpected_error_is_one_line_and_debug_shows_the_traceback(
    workspace: Workspace, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    # No real part can make a command hit a bug on purpose: a broken helper stands in.
    import graftwork.commands.curate as curate

    def broken(*_a: object, **_k: object) -> dict:
        raise ValueError("a bug nobody foresaw")

    monkeypatch.setattr(curate, "all_decisions", broken)
    assert run_main(workspace, "curate", "--list") == 1
    line = one_line(capsys.readouterr().err)
    assert "a bug nobody foresaw" in line and "--debug" in line
    assert run_main(workspace, "--debug", "curate", "--list") == 1
    err = capsys.readouterr().err
    assert "Traceback" in err and "a bug nobody foresaw" in err


def test_read_only_archives_fail_each_item_not_the_run(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    archives = workspace.downloads_dir / ".archives"
    archives.mkdir()
    with LocalServer() as server:
        entries = [
            {"id": i, "downloadUrl": server.route(f"/{i}.zip", widget_zip(i))} for i in ("a", "b")
        ]
        manifest = tmp_path / "m.json"
        manifest.write_text(json.dumps(entries), encoding="utf-8")
        with read_only(archives):
            code = run_main(workspace, "ingest", "--manifest", str(manifest), "--no-screenshots")
    err = capsys.readouterr().err
    assert code == 1, err
    assert "Traceback" not in err and "TypeError" not in err
    assert "a: file system error:" in err and "b: file system error:" in err
    assert ".archives" in err


@pytest.mark.parametrize(
    ("folder", "args"),
    [
        ("downloads", ("ingest", "--manifest", "MANIFEST")),
        ("datasets", ("build", "--set", "v1")),
        ("prompts", ("prompts", "export")),
    ],
)
def test_read_only_folders_are_one_line(
    workspace: Workspace, tmp_path: Path, capsys: pytest.CaptureFixture[str], folder, args
) -> None:
    from support.widget_rows import add_widget

    with workspace.catalog() as db:
        add_widget(db, workspace, "w1")
    manifest = tmp_path / "m.json"
    manifest.write_text('[{"id": "w2", "downloadUrl": "w2.zip"}]', encoding="utf-8")
    args = tuple(str(manifest) if a == "MANIFEST" else a for a in args)
    with read_only(workspace.root / folder):
        code = run_main(workspace, *args)
    err = capsys.readouterr().err
    assert code in (1, 2), err
    assert "Traceback" not in err and "error: unexpected " not in err
    assert f"{folder}" in err and ("not permitted" in err or "denied" in err)
