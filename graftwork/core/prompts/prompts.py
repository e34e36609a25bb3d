"""The prompt store: every change to a prompt is a new row in `prompt_revisions`.

Rows are never updated or deleted. The newest revision (highest rev) of an item is its
current prompt, and its state (draft, accepted, rejected) is the item's prompt state.
The teacher, the TUI and build all go through these functions.
"""

from __future__ import annotations

import json
import os
import re
import sqlite3
from pathlib import Path
from typing import Any

import sqlite_utils

from graftwork.core.base.atomic import write_text
from graftwork.core.base.catalog.db import now, require_item, write_txn
from graftwork.core.base.errors import GraftworkError, ItemError, os_error_line
from graftwork.core.base.jobs import Job, StageResult, stage_db
from graftwork.core.base.workspace import Workspace
from graftwork.core.dataset.examples import sha256_text
from graftwork.core.prompts.current import _decode, current, current_all

STATES = ("draft", "accepted", "rejected")
ORIGINS = ("template", "manual", "import", "teacher", "tui", "generated")
PROMPT_SUFFIX = ".prompt"


class RevisionConflict(ItemError):
    """A text edited from an older revision while the current one's text changed since: not
    stored. ``theirs`` is the current revision, ``base_rev`` the one the edit started from."""

    def __init__(self, item_id: str, base_rev: int, theirs: dict[str, Any], mine: str) -> None:
        base = f"r{base_rev}" if base_rev else "no prompt"
        super().__init__(
            item_id,
            f"edited from {base}, but r{theirs['rev']} ({theirs['origin']}) was saved since; "
            "not applied (keep yours on top with --force, or take theirs)",
        )
        self.base_rev, self.theirs, self.mine = base_rev, theirs, mine


def history(db: sqlite_utils.Database, item_id: str) -> list[dict[str, Any]]:
    """All revisions of ``item_id``, oldest first."""
    rows = db.query("SELECT * FROM prompt_revisions WHERE item_id = ? ORDER BY rev", [item_id])
    return [_decode(r) for r in rows]


def add_revision(
    db: sqlite_utils.Database,
    item_id: str,
    text: str,
    *,
    origin: str,
    state: str = "draft",
    provenance: dict[str, Any] | None = None,
    note: str | None = None,
    base_rev: int | None = None,
) -> dict[str, Any]:
    """Append a revision (rev = previous + 1) and return it.

    Identical text and state to the current revision appends nothing and returns the
    current one, so re-running a stage never piles up duplicates. ``base_rev`` names the
    revision the text was edited from (0: from no prompt); if a newer revision changed the
    text since, nothing is stored and RevisionConflict says so (None: no check). Every
    stored revision is also written to ``prompts/{id}.prompt`` of the catalog's workspace.
    """
    if state not in STATES:
        raise GraftworkError(f"unknown prompt state {state!r}; expected one of {', '.join(STATES)}")
    if origin not in ORIGINS:
        raise GraftworkError(
            f"unknown prompt origin {origin!r}; expected one of {', '.join(ORIGINS)}"
        )
    if not isinstance(text, str) or not text.strip():
        raise ItemError(item_id, "empty prompt text")
    require_item(db, item_id)
    for attempt in range(3):
        try:
            with write_txn(db):
                cur = current(db, item_id)
                if cur is not None and cur["text"] == text and cur["state"] == state:
                    return cur
                if base_rev is not None and cur is not None and cur["rev"] != base_rev:
                    _check_base(db, item_id, base_rev, cur, text)
                row = {
                    "item_id": item_id,
                    "rev": (cur["rev"] if cur else 0) + 1,
                    "text": text,
                    "sha256": sha256_text(text),
                    "state": state,
                    "origin": origin,
                    "provenance": json.dumps(
                        provenance or {}, ensure_ascii=False, sort_keys=True, default=str
                    ),
                    "note": note,
                    "created_at": now(),
                }
                row_id = db.execute(
                    "INSERT INTO prompt_revisions (item_id, rev, text, sha256, state, origin, provenance, note, created_at) "
                    "VALUES (:item_id, :rev, :text, :sha256, :state, :origin, :provenance, :note, :created_at)",
                    row,
                ).lastrowid
            stored = _decode({"id": row_id, **row})
            _mirror(db, item_id, stored)
            return stored
        except sqlite3.IntegrityError:  # another writer took this rev between our read and insert
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _check_base(
    db: sqlite_utils.Database, item_id: str, base_rev: int, cur: dict[str, Any], text: str
) -> None:
    """Only a change of *text* since the base conflicts (an accept keeps the text)."""
    base = list(
        db.query(
            "SELECT text FROM prompt_revisions WHERE item_id = ? AND rev = ?", [item_id, base_rev]
        )
    )
    base_text = base[0]["text"] if base else None
    if base_text != cur["text"] and cur["text"] != text:
        raise RevisionConflict(item_id, base_rev, cur, text)


def _mirror(db: sqlite_utils.Database, item_id: str, revision: dict[str, Any]) -> None:
    """prompts/{id}.prompt follows every revision (the seed's users edit those files). When
    it cannot, the revision (already committed) says why: ``file_problem`` (the file could
    not be written: the caller reports it as an error) or ``file_kept`` (a hand edit not
    picked up yet stays in the file; the next pickup applies or reports it)."""
    from graftwork.core.prompts.files import mirror_one, workspace_of

    if db.conn.in_transaction:  # inside a caller's transaction: it mirrors after commit
        return
    ws = workspace_of(db)
    problem = mirror_one(ws, db, item_id, revision) if ws is not None else None
    if problem is not None:
        revision["file_problem" if problem.unwritable else "file_kept"] = problem.message


def implied_base(
    ws: Workspace, db: sqlite_utils.Database, item_id: str, text: str, path: Path | None
) -> int | None:
    """The revision a text from ``path`` was edited from, where it can be told: the one
    prompts/{id}.prompt was last written from, or an older revision whose text it repeats
    (a stale copy). None when unknown (the text is then stored on top)."""
    from graftwork.core.prompts.files import records_for

    if (
        path is not None
        and path.resolve() == (ws.prompts_dir / f"{item_id}{PROMPT_SUFFIX}").resolve()
    ):
        record = records_for(db, item_id)
        if record is not None:
            return record.rev
    same = [r["rev"] for r in history(db, item_id) if r["text"] == text]
    return max(same) if same else None


def set_state(
    db: sqlite_utils.Database, item_id: str, state: str, note: str | None = None
) -> dict[str, Any]:
    """Accept or reject (or return to draft) the current text: a new revision, same text."""
    require_item(db, item_id)
    cur = current(db, item_id)
    if cur is None:
        raise ItemError(item_id, "has no prompt yet (run `graftwork prompts draft` or set one)")
    return add_revision(
        db,
        item_id,
        cur["text"],
        origin=cur["origin"],
        state=state,
        provenance=cur["provenance"],
        note=note,
    )


# ---- template drafts -----------------------------------------------------------------------

# Verbs a description may start with ("Shows ...", "Display ..."), in their base form.
_VERBS = {
    "show",
    "display",
    "add",
    "get",
    "check",
    "monitor",
    "track",
    "list",
    "put",
    "give",
    "keep",
    "fetch",
    "print",
    "render",
    "place",
    "draw",
    "count",
    "view",
    "see",
    "make",
    "let",
    "use",
    "pull",
    "copy",
    "create",
    "download",
    "play",
    "control",
    "generate",
    "provide",
    "remind",
    "turn",
    "allow",
    "bring",
    "change",
    "help",
    "load",
    "read",
    "report",
    "present",
    "indicate",
    "visualize",
    "visualise",
    "simulate",
    "tell",
    "output",
    "query",
    "watch",
    "grab",
    "retrieve",
    "scrape",
    "notify",
    "convert",
    "calculate",
    "cycle",
    "rotate",
    "toggle",
    "hide",
    "open",
}
_WIDGET_INTRO = re.compile(
    r"^(?:this\s+is\s+)?(?:(?:this|a|an|the|my)\s+)?(?:(?:simple|small|minimal|tiny|basic|little)\s+)?"
    r"(?:(?:ü|u|ue)bersicht\s+)?widget\s+(?:that\s+|which\s+|to\s+|(?=\w+s\b))",
    re.IGNORECASE,
)


def _third_person(verb: str) -> str:
    if verb.endswith(("sh", "ch", "x", "s")):
        return verb + "es"
    if verb.endswith("y") and verb[-2:-1] not in "aeiou":
        return verb[:-1] + "ies"
    return verb + "s"


def _is_verb_s(word: str) -> bool:
    """ "shows", "fetches", "copies": a known verb in the third person."""
    return any(_third_person(v) == word for v in _VERBS)


def _description_clause(description: str) -> str | None:
    """The first sentence of a description, phrased to follow "widget that"."""
    text = " ".join(description.split())
    if not text:
        return None
    first = re.split(r"(?<=[.!?])\s+(?=[A-Z])", text, maxsplit=1)[0].rstrip(" .!")
    first = _WIDGET_INTRO.sub("", first)
    if not first:
        return None
    head, _, rest = first.partition(" ")
    tail = f" {rest}" if rest else ""
    low = head.lower()
    if low in ("let's", "let’s"):  # a common slip for "lets"
        head = low = "lets"
    if low in _VERBS:  # "Display todo list" -> "displays todo list"
        return f"{_third_person(low)}{tail}"
    if _is_verb_s(low):  # "Shows the time" -> "shows the time"
        return f"{low}{tail}"
    if low in ("a", "an", "the"):
        return f"is {low}{tail}"
    keep = (
        head.isupper()
        or any(c.isupper() for c in head[1:])
        or low in ("übersicht", "ubersicht", "uebersicht")
    )
    noun = head if keep else low
    if re.match(r"^(?:\S+\s+){0,3}widgets?\b", first, flags=re.IGNORECASE):
        # "Weather widget for X" -> "is a weather widget for X"
        article = "an" if low[:1] in "aeiouü" else "a"
        return f"is {article} {noun}{tail}"
    return f"shows {noun}{tail}"


def _interval(ms: int) -> str:
    if ms <= 0:
        return "continuously"
    for unit_ms, unit in ((3_600_000, "hour"), (60_000, "minute"), (1000, "second")):
        if ms >= unit_ms:
            n = ms / unit_ms
            if n == 1:
                return f"every {unit}"
            num = f"{n:g}" if n == int(n) or n * 10 == int(n * 10) else f"{n:.1f}"
            return f"every {num} {unit}s"
    return f"every {ms} milliseconds"


def _command_clause(facts: dict[str, Any]) -> str | None:
    """What the widget runs for its data, or None when it has no command at all."""
    cmd = facts.get("command")
    kind = facts.get("command_kind") or "none"
    if kind == "function" or cmd == "function":
        if facts.get("uses_fetch"):
            return "load its data with `fetch` in a command function"
        if facts.get("uses_run"):
            return "gather its data by calling `run()` from a command function"
        return "compute its data in a JavaScript command function"
    if not cmd or kind == "none":
        if facts.get("uses_run"):
            return "run shell commands with `run()`"
        if facts.get("uses_fetch"):
            return "load its data with `fetch`"
        return None
    cmd = " ".join(str(cmd).split())
    if kind == "expression":
        return "run a shell command built in JavaScript"
    if len(cmd) <= 80 and "`" not in cmd:
        return f"run the shell command `{cmd}`"
    program = cmd.split(" ", 1)[0].strip("'\"")
    return f"run a shell command that calls `{program}`" if program else "run a shell command"


_STYLE_PHRASES = {
    "emotion-css": "Emotion `css` styles",
    "styled": "Emotion `styled` components",
    "className-css": "a CSS string exported as `className`",
    "className-object": "a style object exported as `className`",
    "class-names": "CSS class names",
    "inline-style": "inline style objects",
    "css-string": "a CSS string",
}


def _join(words: list[str], serial: bool = False) -> str:
    if len(words) <= 1:
        return "".join(words)
    last = ", and " if serial and len(words) > 1 else " and "
    return ", ".join(words[:-1]) + last + words[-1]


def styling_phrase(styling: list[str] | str | None) -> str:
    tags = styling.split(",") if isinstance(styling, str) else list(styling or [])
    phrases = [_STYLE_PHRASES[t] for t in tags if t in _STYLE_PHRASES]
    if not phrases:
        return "default styling"
    return _join(phrases)


def template_draft(item: dict[str, Any], analysis: dict[str, Any]) -> str:
    """A prompt in the seed's form, from the item's description and the analysis facts:
    "Create an Übersicht widget that <description>. The widget should <facts> using
    React/JSX with <styling>."
    """
    facts = analysis.get("facts") or {}
    if isinstance(facts, str):
        try:
            facts = json.loads(facts)
        except ValueError:
            facts = {}
    facts = {"command": analysis.get("command"), **facts}
    clause = _description_clause(str(item.get("description") or ""))
    name = " ".join(str(item.get("name") or item.get("id") or "").split())
    if clause:
        opening = f"Create an Übersicht widget that {clause}."
    elif name:
        opening = f"Create an Übersicht widget called “{name}”."
    else:
        opening = "Create an Übersicht widget."

    command = _command_clause(facts)
    if facts.get("refresh_disabled") or analysis.get("refresh_frequency") == "false":
        timing = "once, without a refresh timer"
    elif facts.get("refresh_ms") is not None:
        timing = _interval(int(facts["refresh_ms"]))
    elif facts.get("refresh_frequency"):
        timing = f"on a timer (`{facts['refresh_frequency']}` ms)"
    else:
        timing = ""
    parts = [f"{command} {timing}".strip()] if command else []
    if facts.get("uses_update_state"):
        parts.append(
            "keep its state with `updateState`"
            + (" and `initialState`" if facts.get("uses_initial_state") else "")
        )
    hooks = facts.get("hooks") or []
    if hooks:
        parts.append(f"use the React hooks {_join([f'`{h}`' for h in hooks])}")
    if command:
        parts.append("render the result")
    elif timing.startswith("every"):
        parts.append(f"render its content without a shell command, re-rendering {timing}")
    else:
        parts.append("render its content without a shell command")
    # a serial comma keeps "use `useState` and `useEffect`, and render ..." readable
    body = _join(parts, serial=any(" and " in p for p in parts[:-1]))
    style = styling_phrase(
        facts.get("styling") if facts.get("styling") is not None else analysis.get("styling")
    )
    return f"{opening} The widget should {body} using React/JSX with {style}."


def draft_missing(ws: Workspace, job: Job, db: sqlite_utils.Database | None = None) -> StageResult:
    """Give every analyzed JSX widget that has no prompt yet a template draft."""
    from graftwork.core.analyze.report_csv import write_report

    db = stage_db(ws, job, db)
    result = StageResult()
    rows = list(
        db.query(
            "SELECT i.id, i.name, i.description, a.* FROM items i JOIN analysis a ON a.item_id = i.id "
            "WHERE a.is_jsx = 1 ORDER BY i.manifest_order, i.id"
        )
    )
    have = {r["item_id"] for r in db.query("SELECT DISTINCT item_id FROM prompt_revisions")}
    job.set_total(len(rows))
    for r in rows:
        job.check_cancelled()
        iid = r["id"]
        if r["error"]:
            result.skipped.append((iid, f"analysis error: {r['error']}"))
        elif iid in have:
            result.skipped.append((iid, "already has a prompt"))
        else:
            text = template_draft(r, r)
            add_revision(
                db,
                iid,
                text,
                origin="template",
                provenance={"generator": "template", "code_sha256": r["code_sha256"]},
            )
            result.ok += 1
        job.advance(item_id=iid)
    result.outputs.append(write_report(ws, db))
    result.summary = {"drafted": result.ok, "skipped": len(result.skipped)}
    return result


# ---- prompt files ----------------------------------------------------------------------------


MAX_PROMPT_FILE_BYTES = 1_000_000  # a prompt is a paragraph; anything near this is a mistake


def read_prompt_file(path: Path) -> str:
    """The prompt in a .prompt file: UTF-8 (a BOM is dropped), CRLF -> LF, outer blank space trimmed.

    Raises ValueError (one line naming the file) when the file is a symlink or not a regular
    file (a link to /etc/passwd must not become a prompt), too large, not UTF-8, or holds a
    NUL byte.
    """
    if path.is_symlink():
        raise ValueError(f"{path.name} is a symlink; prompt files must be regular files")
    if not path.is_file():
        raise ValueError(f"{path.name} is not a regular file")
    # O_NOFOLLOW: the file cannot be swapped for a link between the check and the read.
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    with os.fdopen(fd, "rb") as fh:
        data = fh.read(MAX_PROMPT_FILE_BYTES + 1)
    if len(data) > MAX_PROMPT_FILE_BYTES:
        raise ValueError(f"{path.name} is larger than {MAX_PROMPT_FILE_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path.name} is not UTF-8 (byte 0x{data[exc.start]:02x} at offset {exc.start})"
        ) from None
    if "\x00" in text:
        raise ValueError(f"{path.name} contains a NUL byte (at offset {data.index(0)})")
    return text.lstrip("\ufeff").replace("\r\n", "\n").replace("\r", "\n").strip()


def import_dir(
    ws: Workspace, directory: Path, job: Job, db: sqlite_utils.Database | None = None
) -> StageResult:
    """Import `<id>.prompt` files: a changed text becomes a new draft revision (origin import)."""
    from graftwork.core.analyze.report_csv import write_report

    directory = Path(directory)
    if not directory.is_dir():
        raise GraftworkError(f"{directory}: no such folder")
    db = stage_db(ws, job, db)
    from graftwork.core.prompts.files import mirror_missing, records, written_by_us

    # what a killed import committed but did not write out (or an unwritable folder kept out)
    for problem in mirror_missing(ws, db):
        job.log(problem.message, level="warning", item_id=problem.item_id)

    known = {r["id"] for r in db.query("SELECT id FROM items")}
    cur_all = current_all(db)
    # Symlinks are listed too, so that read_prompt_file reports them instead of skipping.
    files = sorted(
        p
        for p in directory.iterdir()
        if p.suffix == PROMPT_SUFFIX and (p.is_symlink() or p.is_file())
    )
    ours = records(db) if directory.resolve() == ws.prompts_dir.resolve() else {}
    result = StageResult()
    job.set_total(len(files))
    for path in files:
        job.check_cancelled()
        iid = path.stem
        cause = None
        if iid not in known:
            cause = f"{path.name}: unknown item id"
        elif written_by_us(path, ours.get(iid)):
            result.skipped.append((iid, "unchanged since graftwork wrote it"))
        else:
            try:
                text = read_prompt_file(path)
            except (ValueError, OSError) as exc:
                cause = str(exc)
            else:
                if not text:
                    cause = f"{path.name} is empty"
                elif iid in cur_all and cur_all[iid]["text"] == text:
                    result.skipped.append((iid, "unchanged"))
                else:
                    try:
                        rev = add_revision(
                            db,
                            iid,
                            text,
                            origin="import",
                            provenance={"file": str(path.resolve()), "sha256": sha256_text(text)},
                            base_rev=implied_base(ws, db, iid, text, path),
                        )
                        result.ok += 1
                        cause = rev.get("file_problem")  # imported, but its file is stale
                    except RevisionConflict as exc:
                        cause = f"{path.name}: {exc.cause}"
        if cause:
            result.failed.append((iid, cause))
            job.item_failed(iid, cause)
        job.advance(item_id=iid)
    result.outputs.append(write_report(ws, db))
    result.summary = {
        "imported": result.ok,
        "unchanged": len(result.skipped),
        "failed": len(result.failed),
    }
    return result


def export_dir(
    ws: Workspace,
    directory: Path | None,
    job: Job,
    db: sqlite_utils.Database | None = None,
    states: tuple[str, ...] | None = None,
) -> StageResult:
    """Write `<id>.prompt` for every current prompt (optionally only some states), atomically.

    Files whose content is already identical are left untouched.
    """
    from graftwork.core.prompts.files import mirror_one

    directory = Path(directory) if directory is not None else ws.prompts_dir
    db = stage_db(ws, job, db)
    prompts = current_all(db)
    result = StageResult()
    job.set_total(len(prompts))
    for iid in sorted(prompts):
        job.check_cancelled()
        rev = prompts[iid]
        if states is not None and rev["state"] not in states:
            result.skipped.append((iid, f"state {rev['state']}"))
        elif "/" in iid or "\\" in iid or iid in ("", ".", ".."):
            result.failed.append((iid, "id cannot be a file name"))
            job.item_failed(iid, "id cannot be a file name")
        elif directory.resolve() == ws.prompts_dir.resolve():  # the mirror: hand edits stay
            problem = mirror_one(ws, db, iid, rev)
            if problem:
                result.failed.append((iid, problem.message))
                job.item_failed(iid, problem.message)
            else:
                result.ok += 1
                result.outputs.append(directory / f"{iid}{PROMPT_SUFFIX}")
        else:
            path = directory / f"{iid}{PROMPT_SUFFIX}"
            content = rev["text"] + "\n"
            try:
                unchanged = path.read_text(encoding="utf-8") == content
            except (OSError, UnicodeDecodeError):
                unchanged = False
            try:
                if not unchanged:
                    write_text(path, content)
            except OSError as exc:  # a read-only or full prompts/ folder: said per item
                result.failed.append((iid, os_error_line(exc)))
                job.item_failed(iid, os_error_line(exc))
            else:
                result.ok += 1
                result.outputs.append(path)
        job.advance(item_id=iid)
    result.summary = {"exported": result.ok, "directory": str(directory)}
    return result


def template_draft_for(db: sqlite_utils.Database, item_id: str) -> str:
    """template_draft for one catalog item (the TUI's "draft from template" action)."""
    require_item(db, item_id)
    rows = list(
        db.query(
            "SELECT i.id, i.name, i.description, a.* FROM items i LEFT JOIN analysis a ON a.item_id = i.id "
            "WHERE i.id = ?",
            [item_id],
        )
    )
    return template_draft(rows[0], rows[0])
