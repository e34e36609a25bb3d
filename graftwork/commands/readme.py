"""`graftwork readme`: write a README for a folder with a trained readmes adapter."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from graftwork.commands._common import err_console, workspace_from


@click.command("readme")
@click.argument("path", type=click.Path(file_okay=False, path_type=Path))
@click.option(
    "--run", "run_id", required=True, metavar="RUN", help="A training run (see `graftwork runs`)."
)
@click.option(
    "--best", "which", flag_value="best", default=True, help="The run's best adapter (default)."
)
@click.option("--last", "which", flag_value="last", help="The run's last adapter.")
@click.option("--description", default=None, metavar="TEXT", help="A sentence about the project.")
@click.option("--max-tokens", type=click.IntRange(min=1), default=1024, show_default=True)
@click.option("--temperature", type=click.FloatRange(0, 5), default=0.0, show_default=True)
@click.pass_context
def command(
    ctx: click.Context,
    path: Path,
    run_id: str,
    which: str,
    description: str | None,
    max_tokens: int,
    temperature: float,
) -> None:
    """Generate a README for the folder PATH from its file tree (and key files, when the run
    was trained with them), streamed to the terminal and written to
    PATH/README.generated.md (never over an existing README)."""
    from graftwork import wiring
    from graftwork.adapters.mlx.generate import run_generation
    from graftwork.core.review.samples import resolve_run
    from graftwork.core.sources.readmes.config import load_readmes_config
    from graftwork.core.sources.readmes.infer import (
        readme_messages,
        trained_with_key_files,
        write_generated,
    )
    from graftwork.core.sources.readmes.model import RepoError

    ws = workspace_from(ctx)
    root = path.expanduser().resolve()
    with ws.catalog() as db:
        run, model, adapter_dir = resolve_run(ws, db, run_id, which)
    from graftwork.adapters.git_cli import GitCli

    try:
        messages = readme_messages(
            root,
            git=GitCli(),
            cfg=load_readmes_config(ws),
            count=wiring.teacher_counter(),
            description=description,
            with_keys=trained_with_key_files(ws, run["id"]),
        )
    except RepoError as exc:
        raise click.ClickException(f"{path}: {exc}") from None
    err_console.print(
        f"run {run['id']}, adapter {adapter_dir.name}, model {model}", markup=False, highlight=False
    )
    parts: list[str] = []

    def on_event(event: dict) -> None:
        if event.get("type") == "token":
            parts.append(event["text"])
            sys.stdout.write(event["text"])
            sys.stdout.flush()
        elif event.get("type") == "sample" and not parts:
            parts.append(event.get("text") or "")  # no stream events: the whole text at once
            sys.stdout.write(parts[-1])

    run_generation(
        model,
        str(adapter_dir),
        [{"key": "readme", "messages": messages, "tools": None}],
        seed=0,
        temperature=temperature,
        max_tokens=max_tokens,
        on_event=on_event,
        adapter_only=True,
        stream=True,
    )
    sys.stdout.write("\n")
    written = write_generated(root, "".join(parts))
    err_console.print(f"wrote {written}", markup=False, highlight=False)
