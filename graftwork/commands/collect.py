"""`graftwork collect`: repositories into the readmes recipe's catalog (seed 001, phase 1)."""

from __future__ import annotations

import click

from graftwork.commands._common import finish, run_with_progress, workspace_from


@click.command("collect")
@click.argument("sources", nargs=-1, metavar="[PATH_OR_URL]...")
@click.option(
    "--repos",
    "repos_file",
    default=None,
    metavar="FILE",
    help="A list file: one folder or URL a line (# comments allowed).",
)
@click.option(
    "--awesome",
    multiple=True,
    metavar="FILE_OR_URL",
    help="An awesome-list Markdown file (path or URL): every GitHub repository it links to.",
)
@click.option(
    "--api",
    is_flag=True,
    help="Read github.com repositories over the REST API instead of cloning (also used when git is missing).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(1, 256),
    default=None,
    help="Repositories and API requests at once (default: readmes.collect.concurrency, 8).",
)
@click.pass_context
def command(
    ctx: click.Context,
    sources: tuple[str, ...],
    repos_file: str | None,
    awesome: tuple[str, ...],
    api: bool,
    concurrency: int | None,
) -> None:
    """Collect each repository's README, file tree, language, project type, licence and key
    files, and write collection/awesome_readme_data.json.

    A folder is read in place (a git work tree lists its tracked files); any other URL git
    accepts is cloned shallow into repos/. The GitHub token is read from the variable named
    by readmes.github.token_env (GITHUB_TOKEN) and never stored.

    Example: graftwork collect ~/src/tool https://github.com/owner/repo --awesome list.md
    """
    ws = workspace_from(ctx)
    params = {
        "sources": list(sources),
        "repos_file": repos_file,
        "awesome": list(awesome),
        "api": api,
        "concurrency": concurrency,
    }
    result = run_with_progress(ws, "collect", params)
    s = result.summary
    api_note = (
        f"; GitHub API requests {s['api_requests']} ({s['api_not_modified']} unchanged)"
        if s.get("api_requests")
        else ""
    )
    finish(
        result,
        f"collect: {result.ok} repositories collected, {len(result.failed)} failed "
        f"-> {s['collection']}{api_note}",
    )
