"""The prompt store: append-only revisions, template drafts, import/export of .prompt files."""

from __future__ import annotations

import hashlib
import json
import threading

import pytest

from graftwork.core.base.catalog.db import now
from graftwork.core.base.errors import ItemError, UnknownItemError
from graftwork.core.base.jobs import Job, run_job
from graftwork.core.base.workspace import Workspace
from graftwork.core.prompts import prompts


def add_item(db, item_id: str, description: str | None = "Shows the time", order: int = 0) -> None:
    stamp = now()
    db["items"].insert(
        {
            "id": item_id,
            "source": "uebersicht",
            "name": item_id.title(),
            "author": "t",
            "description": description,
            "manifest": json.dumps({"id": item_id}),
            "manifest_order": order,
            "added_at": stamp,
            "updated_at": stamp,
        }
    )


def add_analysis(db, item_id: str, *, is_jsx: int = 1, error: str | None = None, **facts) -> None:
    base = {
        "command": "date +%H:%M",
        "command_kind": "string",
        "refresh_ms": 60000,
        "styling": ["emotion-css"],
        "hooks": [],
        "uses_update_state": False,
    }
    base.update(facts)
    db["analysis"].insert(
        {
            "item_id": item_id,
            "kind": "jsx" if is_jsx else "coffee",
            "is_jsx": is_jsx,
            "is_coffee": 1 - is_jsx,
            "has_js": 0,
            "folder": f"{item_id}/{item_id}.widget",
            "command": base["command"],
            "refresh_frequency": str(base["refresh_ms"]),
            "styling": ",".join(base["styling"]),
            "facts": json.dumps(base),
            "code_sha256": "ab" * 32,
            "error": error,
            "analyzed_at": now(),
        }
    )


@pytest.fixture
def db(workspace: Workspace):
    with workspace.catalog() as db:  # closed after the test: 3.13 warns about an open one
        for i, iid in enumerate(("clock", "disk", "coffee", "broken")):
            add_item(db, iid, order=i)
        yield db


def test_revisions_are_appended_never_overwritten(db) -> None:
    r1 = prompts.add_revision(db, "clock", "one", origin="manual")
    r2 = prompts.add_revision(db, "clock", "two", origin="tui", note="shorter")
    r3 = prompts.add_revision(
        db, "clock", "three", origin="teacher", provenance={"model": "m1", "call": 7}
    )
    assert [r["rev"] for r in (r1, r2, r3)] == [1, 2, 3]
    hist = prompts.history(db, "clock")
    assert [(h["rev"], h["text"], h["origin"]) for h in hist] == [
        (1, "one", "manual"),
        (2, "two", "tui"),
        (3, "three", "teacher"),
    ]
    assert hist[1]["note"] == "shorter" and hist[2]["provenance"] == {"model": "m1", "call": 7}
    assert (
        hist[0]["sha256"] == hashlib.sha256(b"one").hexdigest()
    )  # independent of the code under test
    assert prompts.current(db, "clock")["text"] == "three"


def test_identical_text_and_state_adds_nothing(db) -> None:
    r1 = prompts.add_revision(db, "clock", "same", origin="manual")
    again = prompts.add_revision(db, "clock", "same", origin="import")
    assert again["id"] == r1["id"] and len(prompts.history(db, "clock")) == 1
    accepted = prompts.set_state(db, "clock", "accepted", note="good")
    assert accepted["rev"] == 2 and accepted["state"] == "accepted" and accepted["text"] == "same"
    assert accepted["origin"] == "manual"
    assert prompts.set_state(db, "clock", "accepted")["id"] == accepted["id"]
    assert [h["state"] for h in prompts.history(db, "clock")] == ["draft", "accepted"]


def test_set_state_keeps_teacher_provenance(db) -> None:
    prompts.add_revision(db, "clock", "t", origin="teacher", provenance={"model": "big"})
    rej = prompts.set_state(db, "clock", "rejected")
    assert rej["provenance"] == {"model": "big"} and rej["origin"] == "teacher"


def test_bad_calls_are_refused(db) -> None:
    with pytest.raises(UnknownItemError) as exc:
        prompts.add_revision(db, "nope", "x", origin="manual")
    assert exc.value.exit_code == 2 and "nope" in str(exc.value)
    with pytest.raises(ItemError, match="no prompt"):
        prompts.set_state(db, "disk", "accepted")
    with pytest.raises(Exception, match="unknown prompt state"):
        prompts.add_revision(db, "clock", "x", origin="manual", state="final")
    with pytest.raises(Exception, match="unknown prompt origin"):
        prompts.add_revision(db, "clock", "x", origin="robot")
    with pytest.raises(ItemError, match="empty"):
        prompts.add_revision(db, "clock", "   ", origin="manual")
    assert prompts.history(db, "clock") == []


def test_current_all_returns_the_newest_of_each(db) -> None:
    prompts.add_revision(db, "clock", "a", origin="manual")
    prompts.add_revision(db, "clock", "b", origin="manual")
    prompts.add_revision(db, "disk", "c", origin="manual")
    cur = prompts.current_all(db)
    assert {k: (v["rev"], v["text"]) for k, v in cur.items()} == {
        "clock": (2, "b"),
        "disk": (1, "c"),
    }


def test_every_reader_of_the_current_prompt_agrees(db) -> None:
    from graftwork.core.prompts import current

    prompts.add_revision(db, "clock", "a", origin="manual", state="accepted")
    prompts.add_revision(db, "clock", "b", origin="manual", state="rejected")
    prompts.add_revision(db, "disk", "c", origin="manual", state="accepted")
    want = {"clock": ("b", "rejected"), "disk": ("c", "accepted")}
    assert current.current_prompts(db) == want
    assert current.current_states(db) == {k: v[1] for k, v in want.items()}
    assert {k: (v["text"], v["state"]) for k, v in prompts.current_all(db).items()} == want
    assert {k: (prompts.current(db, k) or {}).get("text") for k in want} == {
        "clock": "b",
        "disk": "c",
    }
    per_row = dict(
        db.execute(
            f"SELECT i.id, {current.current_state_expr('i.id')} FROM items i WHERE i.id IN ('clock', 'disk')"
        ).fetchall()
    )
    assert per_row == {"clock": "rejected", "disk": "accepted"}


def test_concurrent_writers_get_distinct_revisions(workspace: Workspace, db) -> None:
    errors: list[BaseException] = []

    def writer(n: int) -> None:
        conn = workspace.catalog()  # one connection per thread
        try:
            for i in range(10):
                prompts.add_revision(conn, "clock", f"w{n}-{i}", origin="tui")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert [h["rev"] for h in prompts.history(db, "clock")] == list(range(1, 31))


def test_template_draft_reads_naturally() -> None:
    item = {
        "id": "clock",
        "name": "Clock",
        "description": "A fully customizable analog clock. Two examples included.",
    }
    analysis = {
        "facts": json.dumps(
            {
                "command": "date +%H:%M",
                "command_kind": "string",
                "refresh_ms": 60000,
                "styling": ["emotion-css", "inline-style"],
                "hooks": ["useState"],
            }
        )
    }
    text = prompts.template_draft(item, analysis)
    assert text == (
        "Create an Übersicht widget that is a fully customizable analog clock. The widget should "
        "run the shell command `date +%H:%M` every minute, use the React hooks `useState` and render "
        "the result using React/JSX with Emotion `css` styles and inline style objects."
    )


@pytest.mark.parametrize(
    ("description", "opening"),
    [
        ("Shows your battery level.", "Create an Übersicht widget that shows your battery level."),
        (
            "Display todo list from a file",
            "Create an Übersicht widget that displays todo list from a file.",
        ),
        (
            "Weather widget for your desktop",
            "Create an Übersicht widget that is a weather widget for your desktop.",
        ),
        ("A widget that tracks CPU load", "Create an Übersicht widget that tracks CPU load."),
        ("", "Create an Übersicht widget called “Clock”."),
        (None, "Create an Übersicht widget called “Clock”."),
    ],
)
def test_template_draft_openings(description, opening) -> None:
    text = prompts.template_draft({"id": "clock", "name": "Clock", "description": description}, {})
    assert text.startswith(opening + " The widget should ")
    assert text.endswith("using React/JSX with default styling.")


def test_template_draft_facts_in_words() -> None:
    def draft(**facts) -> str:
        return prompts.template_draft({"description": "Shows things"}, {"facts": facts})

    assert "once, without a refresh timer" in draft(
        command="uptime", command_kind="string", refresh_disabled=True
    )
    assert "every 5 seconds" in draft(command="uptime", command_kind="string", refresh_ms=5000)
    assert "every 1.5 hours" in draft(command="uptime", command_kind="string", refresh_ms=5_400_000)
    assert "load its data with `fetch` in a command function" in draft(
        command="function", command_kind="function", uses_fetch=True
    )
    assert "keep its state with `updateState` and `initialState`" in draft(
        uses_update_state=True, uses_initial_state=True
    )
    long = "curl -s https://example.invalid/api | python3 -c 'import json,sys; print(json.load(sys.stdin))' | head"
    assert "run a shell command that calls `curl`" in draft(command=long, command_kind="string")
    assert "a CSS string exported as `className`" in draft(styling=["className-css"])
    timer = draft(refresh_disabled=True, hooks=["useState", "useEffect"])
    assert (
        "The widget should use the React hooks `useState` and `useEffect`, and render its content without a shell command using"
        in timer
    )
    assert "once" not in timer
    assert "re-rendering every second" in draft(refresh_ms=1000)


def test_draft_missing_only_for_jsx_without_prompt(workspace: Workspace, db) -> None:
    add_analysis(db, "clock")
    add_analysis(db, "disk", command="df -h", refresh_ms=300000)
    add_analysis(db, "coffee", is_jsx=0)
    add_analysis(db, "broken", error="index.jsx is not UTF-8 (byte 0xe9 at offset 3)")
    prompts.add_revision(db, "disk", "hand written", origin="manual")
    result = run_job(db, "prompts.draft", lambda job: prompts.draft_missing(workspace, job, db))
    assert result.ok == 1 and result.exit_code == 0
    assert dict(result.skipped) == {
        "disk": "already has a prompt",
        "broken": "analysis error: index.jsx is not UTF-8 (byte 0xe9 at offset 3)",
    }
    clock = prompts.current(db, "clock")
    assert clock["origin"] == "template" and clock["state"] == "draft"
    assert clock["text"].startswith(
        "Create an Übersicht widget that shows the time. The widget should run the shell command `date +%H:%M` every minute"
    )
    assert (
        prompts.current(db, "coffee") is None
        and prompts.current(db, "disk")["text"] == "hand written"
    )
    again = run_job(db, "prompts.draft", lambda job: prompts.draft_missing(workspace, job, db))
    assert again.ok == 0 and len(prompts.history(db, "clock")) == 1
    assert prompts.template_draft_for(db, "clock") == clock["text"]


def test_export_import_round_trip(workspace: Workspace, db, tmp_path) -> None:
    prompts.add_revision(db, "clock", "Create a clock.\nWith two lines.", origin="manual")
    prompts.add_revision(db, "disk", "Create a disk meter.", origin="teacher", state="accepted")
    out = tmp_path / "out"
    result = run_job(db, "prompts.export", lambda job: prompts.export_dir(workspace, out, job, db))
    assert result.ok == 2
    assert (out / "clock.prompt").read_text(
        encoding="utf-8"
    ) == "Create a clock.\nWith two lines.\n"
    mtime = (out / "disk.prompt").stat().st_mtime_ns

    unchanged = run_job(
        db, "prompts.import", lambda job: prompts.import_dir(workspace, out, job, db)
    )
    assert unchanged.ok == 0 and len(unchanged.skipped) == 2 and unchanged.exit_code == 0
    assert len(prompts.history(db, "clock")) == 1

    (out / "clock.prompt").write_bytes("\ufeffCreate a better clock.\r\n".encode())
    changed = run_job(db, "prompts.import", lambda job: prompts.import_dir(workspace, out, job, db))
    assert changed.ok == 1
    cur = prompts.current(db, "clock")
    assert (cur["rev"], cur["text"], cur["origin"], cur["state"]) == (
        2,
        "Create a better clock.",
        "import",
        "draft",
    )
    assert prompts.history(db, "clock")[0]["text"] == "Create a clock.\nWith two lines."

    run_job(db, "prompts.export", lambda job: prompts.export_dir(workspace, out, job, db))
    assert (out / "disk.prompt").stat().st_mtime_ns == mtime  # identical file left alone
    accepted_only = run_job(
        db,
        "prompts.export",
        lambda job: prompts.export_dir(workspace, tmp_path / "acc", job, db, states=("accepted",)),
    )
    assert sorted(p.name for p in (tmp_path / "acc").iterdir()) == ["disk.prompt"]
    assert accepted_only.ok == 1


def test_export_defaults_to_workspace_prompts_dir(workspace: Workspace, db) -> None:
    prompts.add_revision(db, "clock", "x", origin="manual")
    run_job(db, "prompts.export", lambda job: prompts.export_dir(workspace, None, job, db))
    assert (workspace.prompts_dir / "clock.prompt").read_text(encoding="utf-8") == "x\n"


def test_import_reports_unknown_ids_and_bad_files(workspace: Workspace, db, tmp_path) -> None:
    d = tmp_path / "in"
    d.mkdir()
    (d / "clock.prompt").write_text("Create a clock.", encoding="utf-8")
    (d / "ghost.prompt").write_text("Create a ghost.", encoding="utf-8")
    (d / "disk.prompt").write_bytes(b"Create a caf\xe9 disk.")
    (d / "coffee.prompt").write_text("  \n", encoding="utf-8")
    (d / "notes.txt").write_text("ignored", encoding="utf-8")
    job_messages: list[str] = []
    result = run_job(
        db,
        "prompts.import",
        lambda job: prompts.import_dir(workspace, d, job, db),
        listeners=[lambda e: job_messages.append(e.message) if e.level == "error" else None],
    )
    assert result.ok == 1 and result.exit_code == 1
    failed = dict(result.failed)
    assert failed["ghost"] == "ghost.prompt: unknown item id"
    assert failed["disk"] == "disk.prompt is not UTF-8 (byte 0xe9 at offset 12)"
    assert failed["coffee"] == "coffee.prompt is empty"
    assert "ghost: ghost.prompt: unknown item id" in job_messages
    assert prompts.current(db, "clock")["text"] == "Create a clock."
    assert prompts.current(db, "disk") is None


def test_import_missing_folder_is_an_error(workspace: Workspace, db, tmp_path) -> None:
    with pytest.raises(Exception, match="no such folder"):
        prompts.import_dir(workspace, tmp_path / "missing", Job(None, "t"), db)
