"""`graftwork chunk`: collected READMEs into chunks, each an item (seed 001, phase 2)."""

from __future__ import annotations

import click

from graftwork.commands._common import finish, run_with_progress, workspace_from


@click.command("chunk")
@click.option("--repos", default=None, metavar="A,B", help="Only these repositories (ids).")
@click.option(
    "--force", is_flag=True, help="Chunk again even when README and settings are unchanged."
)
@click.option(
    "--min-chars",
    type=click.IntRange(min=1),
    default=None,
    help="Override readmes.chunk.min_chars (1000).",
)
@click.option(
    "--max-chars",
    type=click.IntRange(min=1),
    default=None,
    help="Override readmes.chunk.max_chars (2000).",
)
@click.pass_context
def command(
    ctx: click.Context,
    repos: str | None,
    force: bool,
    min_chars: int | None,
    max_chars: int | None,
) -> None:
    """Split each collected README into chunks of min..max characters on Markdown structure
    and sentences (fenced code never cut; badge/image/link-only chunks dropped and counted).

    Each chunk becomes an item with a template instruction as its prompt; `graftwork teach
    instructions` asks a teacher for better ones."""
    ws = workspace_from(ctx)
    names = [r.strip() for r in (repos or "").split(",") if r.strip()] or None
    params = {"repos": names, "force": force, "min_chars": min_chars, "max_chars": max_chars}
    result = run_with_progress(ws, "chunk", params)
    s = result.summary
    finish(
        result,
        f"chunk: {s['chunks']} chunks from {s['repos']} READMEs ({s['new']} new, "
        f"{s['inactive']} gone, {s['unchanged']} READMEs unchanged); dropped as link-only "
        f"{s['dropped_link_only']}, oversize (a code block kept whole) {s['oversize']}",
    )
