"""A small but real workspace for the TUI tests: a real SQLite catalog written through the
documented schema (HACKING.md), widget folders holding our own tiny JSX files, a screenshot,
jobs with logs, and the bad input the app must survive (markup in names, emoji and wide
characters, a deleted download folder, a failed download, an over-budget widget)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import sha256_text

T0 = "2026-11-20T10:00:00.000+00:00"

CLOCK_JSX = """\
import { css } from "uebersicht";

export const command = "date +%H:%M";
export const refreshFrequency = 1000;

export const render = ({ output }) => <div className={box}>{output}</div>;

const box = css`
  color: white;
  font: 24px Menlo;
`;
"""

WEATHER_JSX = """\
export const command = "curl -s wttr.in/?format=3";
export const refreshFrequency = 600000;
export const render = ({ output }) => <pre>{output}</pre>;
"""

# (id, name, author, description, kind, download, prompt (state, text) or None,
#  budget (total, action, over_by) or None, curation decision or None)
ITEMS = [
    (
        "clock",
        "Analog Clock",
        "Chris",
        "A clock that shows the time.",
        "jsx",
        "ok",
        ("accepted", "Create an Übersicht widget that shows the time in large white digits."),
        (1200, "keep", 0),
        "include",
    ),
    (
        "markup",
        "[bold]Not Bold[/bold]",
        "[red]Mallory",
        "Name with [markup] characters.",
        "jsx",
        "ok",
        ("draft", "Create a widget named [bold]x[/bold]."),
        (900, "keep", 0),
        None,
    ),
    (
        "weather",
        "天気 Weather ☀️",
        "Yuki",
        "Weather with emoji 🌧 and wide characters 東京.",
        "jsx",
        "ok",
        ("draft", "Create a widget that shows 東京 weather ☀️🌧 with emoji."),
        (1500, "keep", 0),
        "needs_work",
    ),
    (
        "huge",
        "Huge Dashboard",
        "Big",
        "Far too large for the budget.",
        "jsx",
        "ok",
        ("draft", "Create a dashboard with every system statistic."),
        (6200, "exclude", 2105),
        None,
    ),
    (
        "coffee",
        "Coffee Widget",
        "Old",
        "Written in CoffeeScript.",
        "coffee",
        "ok",
        None,
        None,
        None,
    ),
    (
        "gone",
        "Deleted Folder",
        "Ghost",
        "Its download folder was deleted.",
        "jsx",
        "ok",
        ("draft", "Create a widget whose files are gone."),
        (800, "keep", 0),
        None,
    ),
    ("nope", "No Prompt Yet", "Ann", "Analyzed but no prompt.", "jsx", "ok", None, None, None),
    (
        "spam",
        "Spam Widget",
        "Eve",
        "Excluded by a curator.",
        "jsx",
        "ok",
        ("rejected", "Create spam."),
        (700, "keep", 0),
        "exclude",
    ),
    (
        "broken",
        "Broken Download",
        "Bob",
        "The archive was a HTML page.",
        None,
        "failed",
        None,
        None,
        None,
    ),
]

JOBS = [
    (
        "job-ingest01",
        "ingest",
        "done",
        9,
        9,
        0,
        T0,
        "2026-11-20T10:00:04.500+00:00",
        None,
        [("info", None, "downloaded 8 widgets"), ("error", "broken", "broken: not a zip file")],
    ),
    (
        "job-budget01",
        "budget",
        "partial",
        8,
        8,
        1,
        "2026-11-20T10:05:00.000+00:00",
        "2026-11-20T10:05:01.250+00:00",
        None,
        [("info", None, "counted 7 examples"), ("error", "gone", "gone: download folder missing")],
    ),
    (
        "job-build001",
        "build",
        "failed",
        0,
        0,
        0,
        "2026-11-20T10:06:00.000+00:00",
        "2026-11-20T10:06:00.300+00:00",
        "set 'v1' exists",
        [("error", None, "ValueError: set 'v1' exists; use --force")],
    ),
]


def _png(path: Path) -> None:
    """A tiny deterministic screenshot (a blue window on grey)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (48, 24), (90, 90, 90))
    ImageDraw.Draw(img).rectangle((6, 4, 41, 19), fill=(40, 90, 200))
    img.save(path)


def build_fixture(root: Path, keymap: dict[str, str] | None = None) -> Workspace:
    ws = Workspace.init(root)
    if keymap:
        text = ws.config_path.read_text(encoding="utf-8").replace(
            "keymap: {}", "keymap: " + json.dumps(keymap)
        )
        ws.config_path.write_text(text, encoding="utf-8")
    db = ws.catalog()
    with db.conn:
        for order, (iid, name, author, desc, kind, dl, prompt, budget, decision) in enumerate(
            ITEMS
        ):
            manifest = {
                "id": iid,
                "name": name,
                "author": author,
                "description": desc,
                "downloadUrl": f"file:///nowhere/{iid}.zip",
                "repoUrl": f"https://github.com/example/{iid}",
            }
            db["items"].insert(
                {
                    "id": iid,
                    "source": "uebersicht",
                    "name": name,
                    "author": author,
                    "description": desc,
                    "manifest": json.dumps(manifest, ensure_ascii=False),
                    "manifest_order": order,
                    "added_at": T0,
                    "updated_at": T0,
                }
            )
            folder = f"{iid}/{iid}.widget"
            db["downloads"].insert(
                {
                    "item_id": iid,
                    "url": manifest["downloadUrl"],
                    "status": dl,
                    "path": f"downloads/{iid}",
                    "attempts": 1,
                    "error": "not a zip file" if dl == "failed" else None,
                    "downloaded_at": T0,
                }
            )
            if dl == "ok":
                wdir = ws.downloads_dir / folder
                wdir.mkdir(parents=True)
                if kind == "coffee":
                    (wdir / "index.coffee").write_text("command: 'date'\n", encoding="utf-8")
                else:
                    code = WEATHER_JSX if iid == "weather" else CLOCK_JSX
                    if iid == "huge":
                        code = CLOCK_JSX * 40
                    (wdir / "index.jsx").write_text(code, encoding="utf-8")
                    (wdir / "lib").mkdir()
                    (wdir / "lib" / "util.jsx").write_text(
                        "export const pad = (n) => n;\n", encoding="utf-8"
                    )
            if kind:
                db["analysis"].insert(
                    {
                        "item_id": iid,
                        "kind": kind,
                        "is_jsx": int(kind == "jsx"),
                        "is_coffee": int(kind == "coffee"),
                        "has_js": 0,
                        "folder": folder,
                        "files": "[]",
                        "file_count": 2,
                        "analyzed_at": T0,
                    }
                )
            if prompt:
                state, text = prompt
                revs = [("template", "Create an Übersicht widget."), ("tui", text)]
                for rev, (origin, body) in enumerate(revs, start=1):
                    db["prompt_revisions"].insert(
                        {
                            "item_id": iid,
                            "rev": rev,
                            "text": body,
                            "sha256": sha256_text(body),
                            "state": state if rev == len(revs) else "draft",
                            "origin": origin,
                            "provenance": "{}",
                            "created_at": T0,
                        }
                    )
            if budget:
                total, action, over = budget
                parts = {
                    "system": 80,
                    "tools": 160,
                    "user": 20,
                    "assistant": total - 290,
                    "structure": 30,
                }
                db["budget"].insert(
                    {
                        "item_id": iid,
                        "max_tokens": 4095,
                        "total_tokens": total,
                        "widget_tokens": parts["assistant"],
                        "parts": json.dumps(parts),
                        "action": action,
                        "reason": "over budget" if over else "fits",
                        "over_by": over,
                        "tokenizer": "fake",
                        "computed_at": T0,
                    }
                )
            if decision:
                db["curation"].insert(
                    {"item_id": iid, "decision": decision, "note": None, "updated_at": T0}
                )
        for jid, kind, state, total, done, failed, start, end, error, logs in JOBS:
            db["jobs"].insert(
                {
                    "id": jid,
                    "kind": kind,
                    "state": state,
                    "params": "{}",
                    "total": total,
                    "done": done,
                    "failed": failed,
                    "started_at": start,
                    "ended_at": end,
                    "summary": "{}",
                    "error": error,
                }
            )
            for level, item, message in logs:
                db["job_logs"].insert(
                    {
                        "job_id": jid,
                        "ts": start,
                        "level": level,
                        "item_id": item,
                        "message": message,
                    }
                )
    db.close()
    shots = ws.downloads_dir / ".screenshots"
    shots.mkdir()
    _png(shots / "clock.png")
    shutil.rmtree(ws.downloads_dir / "gone")  # a catalog whose download folder was deleted
    return ws
