"""`graftwork teach categories` against the real local fake teacher server (HTTP on
127.0.0.1): categories into AI_category, an unusable reply asked again then failed with the
reason, estimate and confirmation, dry run, --limit/--sample, resume, the exclusive job kind,
and the call log."""

from __future__ import annotations

import csv
import json
import re
from typing import Any

import pytest
import yaml
from support.cli import run_main
from support.fake_openai_server import FakeOpenAIServer, default_responder
from support.widget_rows import add_widget

from graftwork.core.base.workspace import Workspace

KEY = "sk-categories-TEST-KEY-31"
NAMES = ["clock", "weather", "cpu", "junk", "flaky", "music"]


@pytest.fixture
def ws(workspace: Workspace, monkeypatch: pytest.MonkeyPatch) -> Workspace:
    monkeypatch.setenv("GW_CAT_KEY", KEY)
    with workspace.catalog() as db:
        for i, name in enumerate(NAMES):
            add_widget(db, workspace, name, order=i)
        add_widget(db, workspace, "legacy", order=10, is_jsx=False)
    return workspace


def responder(body: dict[str, Any]) -> str:
    """The default fake teacher, except: `junk` never names a category, `flaky` only on the
    second ask, `cpu` answers in the way models do ("**System Monitor**.")."""
    messages = body["messages"]
    widget = re.search(r"^Widget: (.+)$", messages[1]["content"], re.M).group(1)  # type: ignore[union-attr]
    if widget == "junk":
        return "banana" if len(messages) == 2 else "I am not sure, maybe a fruit widget?"
    if widget == "flaky":
        return "It shows the time, so: clock-ish" if len(messages) == 2 else "Clock"
    if widget == "cpu":
        return "**System Monitor**."
    return default_responder(body)


def flags(server: FakeOpenAIServer, *extra: str) -> list[str]:
    return ["--base-url", server.base_url, "--api-key-env", "GW_CAT_KEY", *extra]


def report(ws: Workspace) -> dict[str, dict[str, str]]:
    with (ws.root / "widget_processing_results.csv").open(encoding="utf-8", newline="") as fh:
        return {r["PS_widgetfoldername"].split("/")[0]: r for r in csv.DictReader(fh)}


def rows(ws: Workspace, sql: str, params: tuple = ()) -> list[tuple]:
    with ws.catalog() as db:
        return [tuple(r) for r in db.execute(sql, params).fetchall()]


def test_categories_go_to_ai_category_and_bad_replies_fail_with_the_reason(
    ws: Workspace, capsys
) -> None:
    with FakeOpenAIServer(responder=responder) as server:
        code = run_main(ws, "teach", "categories", "--yes", *flags(server))
        requests = len(server.requests)
        out = capsys.readouterr()
        assert code == 1, out.err  # one widget failed: exit 1, the others are stored
        # a second run asks nothing new: the others have a category, junk's calls are reused
        assert run_main(ws, "teach", "categories", "--yes", *flags(server)) == 1
        assert len(server.requests) == requests
    assert "run " in out.out and "5 categorized" in out.out and "1 failed" in out.out
    by_id = {
        r[0]: r[1:]
        for r in rows(ws, "select item_id, category, state, reason from item_categories")
    }
    assert by_id["clock"][:2] == ("clock", "ok")
    assert by_id["weather"][:2] == ("weather", "ok")
    assert by_id["cpu"][:2] == ("system monitor", "ok")
    assert by_id["music"][:2] == ("other", "ok")  # the fake picks the catch-all
    assert by_id["flaky"][:2] == ("clock", "ok")  # right on the second ask
    junk = by_id["junk"]
    assert junk[:2] == (None, "failed")
    assert "'banana'" in junk[2] and "not one of the 9 categories" in junk[2]
    assert "junk:" in out.err and "banana" in out.err
    assert "legacy" not in by_id  # CoffeeScript widgets are not asked
    assert requests == 6 + 2  # one call each, one retry for junk and for flaky
    csv_rows = report(ws)
    assert csv_rows["cpu"]["AI_category"] == "system monitor"
    assert csv_rows["junk"]["AI_category"] == ""
    # the call log has every call, the retry under its own stage
    stages = sorted(s for (s,) in rows(ws, "select stage from teacher_calls"))
    assert stages.count("category") == 6 and stages.count("category-retry") == 2
    # named widgets are asked again (a fresh call with --fresh)
    with FakeOpenAIServer() as server:
        assert (
            run_main(
                ws, "teach", "categories", "-y", "--widgets", "junk", "--fresh", *flags(server)
            )
            == 0
        )
        assert len(server.requests) == 1
    assert rows(ws, "select category, state from item_categories where item_id = 'junk'") == [
        ("other", "ok")
    ]


def test_estimate_dry_run_limit_and_sample(ws: Workspace, capsys) -> None:
    with FakeOpenAIServer() as server:
        assert (
            run_main(ws, "teach", "categories", "--estimate", "--limit", "4", *flags(server)) == 0
        )
        out = capsys.readouterr().out
        assert "4 widget(s), one of 9 categories each" in out and "calls to send: 4" in out
        assert "cost: at most" in out
        assert server.requests == []  # an estimate sends nothing
    # dry run: no server, no key, nothing stored
    assert (
        run_main(
            ws,
            "teach",
            "categories",
            "--dry-run",
            "--limit",
            "2",
            "--base-url",
            "http://127.0.0.1:9/v1",
            "--api-key-env",
            "NOT_SET",
        )
        == 0
    )
    out = capsys.readouterr()
    assert "dry run, no network" in out.err and "dry run: nothing stored" in out.out
    assert rows(ws, "select count(*) from item_categories") == [(0,)]
    assert {s for (s,) in rows(ws, "select status from teacher_calls")} == {"dry-run"}
    # --limit takes the next N in manifest order; --sample writes only the sample area
    with FakeOpenAIServer() as server:
        assert run_main(ws, "teach", "categories", "-y", "--limit", "2", *flags(server)) == 0
        assert [i for (i,) in rows(ws, "select item_id from item_categories order by item_id")] == [
            "clock",
            "weather",
        ]
        assert run_main(ws, "teach", "categories", "-y", "--sample", "3", *flags(server)) == 0
    capsys.readouterr()
    assert rows(ws, "select count(*) from item_categories") == [(2,)]
    assert run_main(ws, "teach", "samples") == 0
    shown = capsys.readouterr().out
    assert "clock" in shown and "weather" in shown


def test_resume_reuses_finished_work(ws: Workspace, capsys) -> None:
    ws.config_path.write_text(yaml.safe_dump({"teacher": {"retries": 0}}), encoding="utf-8")
    with FakeOpenAIServer() as server:
        server.script({"status": 500})  # the first call fails for good (no retries)
        code = run_main(ws, "teach", "categories", "-y", "--concurrency", "1", *flags(server))
        assert code == 1
        assert len(server.requests) == 6
        (state,) = rows(ws, "select state from teach_runs where area = 'categories'")[0]
        assert state == "partial"
        assert run_main(ws, "teach", "categories", "-y", "--resume", *flags(server)) == 0
        assert len(server.requests) == 7  # only the failed widget was asked again
    capsys.readouterr()
    assert rows(ws, "select count(*) from item_categories where state = 'ok'") == [(6,)]
    runs = rows(ws, "select count(*) from teach_runs where area = 'categories'")
    assert runs == [(1,)]  # the same run, resumed


def test_a_second_run_is_refused_while_one_is_live(ws: Workspace, capsys) -> None:
    from graftwork.core.base.jobs import Job

    with ws.catalog() as db:
        live = Job(db, "teach.categories")  # owned by this (live) process
        try:
            with FakeOpenAIServer() as server:
                code = run_main(ws, "teach", "categories", "-y", *flags(server))
                assert server.requests == []
        finally:
            live.finish("done")
    assert code == 2
    assert "teach.categories is already running" in capsys.readouterr().err


def test_the_category_list_is_configurable(ws: Workspace, capsys) -> None:
    ws.config_path.write_text(
        yaml.safe_dump({"project": {"categories": ["time", "sky", "misc"]}}), encoding="utf-8"
    )
    with FakeOpenAIServer() as server:
        assert run_main(ws, "teach", "categories", "-y", "--limit", "2", *flags(server)) == 0
        asked = server.requests[0]["body"]["messages"][1]["content"]
    assert "Categories: time, sky, misc" in asked
    assert {c for (c,) in rows(ws, "select category from item_categories")} == {"misc"}
    ws.config_path.write_text(
        yaml.safe_dump({"project": {"categories": ["a", "A"]}}), encoding="utf-8"
    )
    assert run_main(ws, "teach", "categories", "-y", "--dry-run") == 2
    assert "listed twice" in capsys.readouterr().err


def test_match_category_is_lenient_about_wrapping_and_strict_about_the_word() -> None:
    from graftwork.core.curate.categories import match_category

    names = ["clock", "system monitor", "other"]
    assert match_category("Clock", names) == "clock"
    assert match_category('  "system   monitor".\n', names) == "system monitor"
    assert match_category("Category: `other`", names) == "other"
    assert match_category("clocks", names) is None
    assert match_category("clock\nbecause it shows the time", names) is None
    assert match_category("", names) is None
    assert json.dumps(names)  # the list itself is not changed


def test_build_stratifies_splits_by_category(workspace: Workspace, capsys) -> None:
    from collections import Counter

    from graftwork.core.curate.categories import record

    with workspace.catalog() as db:
        for i in range(20):
            add_widget(db, workspace, f"w{i:02d}", order=i)
            record(db, f"w{i:02d}", category="clock" if i < 10 else "weather")

    def spread(set_name: str) -> tuple[Counter, dict[str, str]]:
        manifest = json.loads((workspace.datasets_dir / set_name / "manifest.json").read_text())
        split = {i["id"]: i["split"] for i in manifest["items"]}
        return Counter(
            (("clock" if int(k[1:]) < 10 else "weather"), s) for k, s in split.items()
        ), split

    assert run_main(workspace, "build", "--set", "s1", "--stratify", "category") == 0
    per, first = spread("s1")
    assert per == {
        ("clock", "train"): 8,
        ("clock", "valid"): 1,
        ("clock", "test"): 1,
        ("weather", "train"): 8,
        ("weather", "valid"): 1,
        ("weather", "test"): 1,
    }
    # the project setting does the same; a rebuild keeps every example's split
    workspace.config_path.write_text(yaml.safe_dump({"project": {"stratify": "category"}}))
    assert run_main(workspace, "build", "--set", "s1", "--force") == 0
    assert spread("s1")[1] == first
    manifest = json.loads((workspace.datasets_dir / "s1" / "manifest.json").read_text())
    assert manifest["stratify"] == "category"
    # --stratify none overrides the setting
    assert run_main(workspace, "build", "--set", "s2", "--stratify", "none") == 0
    assert "stratify" not in json.loads(
        (workspace.datasets_dir / "s2" / "manifest.json").read_text()
    )
