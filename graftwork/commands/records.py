"""`graftwork records`: the seed's SFT files beside a built set (readmes recipe)."""

from __future__ import annotations

import click

from graftwork.commands._common import finish, run_with_progress, workspace_from


@click.command("records")
@click.option(
    "--set", "set_name", required=True, metavar="NAME", help="A built set (datasets/NAME)."
)
@click.pass_context
def command(ctx: click.Context, set_name: str) -> None:
    """Write sft_dataset.json, train.json (train and valid) and test.json into datasets/NAME/,
    one record per example of the set: {"instruction", "input": {"file_tree",
    "project_type", "key_files"?}, "content"} (seed 001's shape)."""
    ws = workspace_from(ctx)
    result = run_with_progress(ws, "records", {"set_name": set_name})
    s = result.summary
    finish(
        result,
        f"records: {s['records']} in datasets/{set_name}/sft_dataset.json "
        f"({s['train']} train.json, {s['test']} test.json)",
    )
