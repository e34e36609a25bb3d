from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from graftwork.commands._common import finish, run_with_progress, workspace_from
from graftwork.core import edits
from graftwork.core.prompts import prompts as store


def _say(text: str) -> None:
    click.echo(text)  # plain: prompt text must come out exactly, never re-wrapped


@click.group("prompts")
def command() -> None:
    """Draft, import, export, edit and review prompts. Every change is a new revision.

    Examples: graftwork prompts draft; graftwork prompts export; graftwork prompts show ID --history
    """


@command.command("draft")
@click.pass_context
def draft(ctx: click.Context) -> None:
    """Give every JSX widget without a prompt a template draft."""
    result = run_with_progress(workspace_from(ctx), "prompts.draft")
    finish(
        result,
        f"drafted {result.ok} prompt(s); {len(result.skipped)} skipped (already prompted or not analyzable)",
    )


@command.command("import")
@click.argument("directory", type=click.Path(file_okay=False))
@click.pass_context
def import_(ctx: click.Context, directory: str) -> None:
    """Import <id>.prompt files from DIRECTORY (changed texts become new draft revisions)."""
    ws = workspace_from(ctx)
    if not Path(directory).is_dir():
        raise click.UsageError(f"{directory}: no such folder")
    result = run_with_progress(ws, "prompts.import", {"directory": Path(directory)})
    finish(
        result,
        f"imported {result.ok} prompt(s); {len(result.skipped)} unchanged; {len(result.failed)} failed",
    )


@command.command("export")
@click.argument("directory", required=False, type=click.Path(file_okay=False))
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(store.STATES),
    help="Only prompts in this state (repeatable).",
)
@click.pass_context
def export(ctx: click.Context, directory: str | None, states: tuple[str, ...]) -> None:
    """Write <id>.prompt for every current prompt to DIRECTORY (default: the workspace prompts/)."""
    ws = workspace_from(ctx)
    target = Path(directory) if directory else ws.prompts_dir
    result = run_with_progress(
        ws, "prompts.export", {"directory": target, "states": states or None}
    )
    finish(result, f"exported {result.ok} prompt(s) to {target}")


@command.command("show")
@click.argument("item_id")
@click.option("--history", "show_history", is_flag=True, help="Every revision, oldest first.")
@click.pass_context
def show(ctx: click.Context, item_id: str, show_history: bool) -> None:
    """Print the current prompt of ITEM_ID (or its whole history)."""
    with workspace_from(ctx).catalog() as db:
        store.require_item(db, item_id)
        revs = (
            store.history(db, item_id)
            if show_history
            else [r for r in [store.current(db, item_id)] if r]
        )
    if not revs:
        raise click.ClickException(f"{item_id}: has no prompt yet")
    for r in revs:
        note = f" note: {r['note']}" if r["note"] else ""
        _say(f"# rev {r['rev']} · {r['state']} · {r['origin']} · {r['created_at']}{note}")
        _say(r["text"])
        if show_history:
            _say("")


def _file_outcome(rev: dict[str, Any]) -> None:
    """Say when prompts/ID.prompt does not follow the saved revision: a file that cannot be
    written is an error (exit 1: the revision is saved, its file is not), a hand edit kept
    in the file a warning."""
    if rev.get("file_kept"):
        click.echo(f"warning: {rev['file_kept']}", err=True)
    if rev.get("file_problem"):
        click.echo(f"error: {rev['file_problem']}", err=True)
        raise SystemExit(1)


def _set_state(ctx: click.Context, item_id: str, state: str, note: str | None) -> None:
    ws = workspace_from(ctx)
    with ws.catalog() as db:
        rev = edits.set_prompt_state(ws, db, item_id, state, note)
    _say(f"{item_id}: rev {rev['rev']} {rev['state']}")
    _file_outcome(rev)


@command.command("set")
@click.argument("item_id")
@click.option("--text", default=None, help="The new prompt text.")
@click.option(
    "--file",
    "file_",
    type=click.Path(dir_okay=False, exists=True),
    default=None,
    help="Read the text from a file.",
)
@click.option("--note", default=None, help="Why the prompt changed.")
@click.option(
    "--base",
    "base_rev",
    type=int,
    default=None,
    help="The revision the text was edited from; a newer revision with other text is a conflict.",
)
@click.option(
    "--force", is_flag=True, help="Store the text even if it was edited from an older revision."
)
@click.pass_context
def set_(
    ctx: click.Context,
    item_id: str,
    text: str | None,
    file_: str | None,
    note: str | None,
    base_rev: int | None,
    force: bool,
) -> None:
    """Replace ITEM_ID's prompt by hand (a new draft revision, origin manual).

    A text edited from an older revision is reported, not stored: the base is --base, or the
    revision prompts/ITEM_ID.prompt was written from, or (for any other file) the revision
    whose text it repeats. --force stores it on top anyway."""
    if (text is None) == (file_ is None):
        raise click.UsageError("give exactly one of --text or --file")
    if file_ is not None:
        try:
            text = store.read_prompt_file(Path(file_))
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    text = (text or "").strip()
    if not text:
        raise click.UsageError("the prompt text is empty")
    ws = workspace_from(ctx)
    with ws.catalog() as db:
        store.require_item(db, item_id)
        before = store.current(db, item_id)
        if not force and base_rev is None:
            base_rev = store.implied_base(ws, db, item_id, text, Path(file_) if file_ else None)
        try:
            rev = edits.revise(
                ws,
                db,
                item_id,
                text,
                origin="manual",
                note=note,
                base_rev=None if force else base_rev,
            )
        except store.RevisionConflict as exc:
            raise click.ClickException(str(exc)) from None
    same = before is not None and before["id"] == rev["id"]
    _say(
        f"{item_id}: unchanged (rev {rev['rev']})" if same else f"{item_id}: rev {rev['rev']} draft"
    )
    _file_outcome(rev)


@command.command("accept")
@click.argument("item_id")
@click.option("--note", default=None)
@click.pass_context
def accept(ctx: click.Context, item_id: str, note: str | None) -> None:
    """Accept ITEM_ID's current prompt (a new revision with the same text)."""
    _set_state(ctx, item_id, "accepted", note)


@command.command("reject")
@click.argument("item_id")
@click.option("--note", default=None)
@click.pass_context
def reject(ctx: click.Context, item_id: str, note: str | None) -> None:
    """Reject ITEM_ID's current prompt (a new revision with the same text)."""
    _set_state(ctx, item_id, "rejected", note)


@command.command("list")
@click.option(
    "--state",
    "states",
    multiple=True,
    type=click.Choice(store.STATES),
    help="Only prompts in this state (repeatable).",
)
@click.pass_context
def list_(ctx: click.Context, states: tuple[str, ...]) -> None:
    """One line per current prompt: id, rev, state, origin, start of the text (tab-separated)."""
    with workspace_from(ctx).catalog() as db:
        current = store.current_all(db)
    shown = 0
    for iid, rev in sorted(current.items()):
        if states and rev["state"] not in states:
            continue
        first = " ".join(rev["text"].split())
        click.echo(f"{iid}\t{rev['rev']}\t{rev['state']}\t{rev['origin']}\t{first[:70]}")
        shown += 1
    click.echo(f"{shown} prompt(s)", err=True)
