from __future__ import annotations

import click

from graftwork.commands._common import finish, out_console, run_with_progress, workspace_from


@click.command("build")
@click.option(
    "--set", "set_name", required=True, metavar="NAME", help="Dataset name: writes datasets/NAME/."
)
@click.option("--force", is_flag=True, help="Replace an existing set of that name.")
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Token limit per example (default: project.max_sequence_length, 4095).",
)
@click.option(
    "--reshuffle",
    is_flag=True,
    help="Forget the splits earlier builds of this set recorded and assign every example anew.",
)
@click.option(
    "--limit",
    "example_limit",
    type=click.IntRange(min=1),
    default=None,
    metavar="N",
    help="At most N examples, a seeded pick over the usable ones (examples that share a split "
    "key stay together): e.g. 100 for a dry run, 2000-3000 for a mini fine-tune.",
)
@click.option(
    "--stratify",
    type=click.Choice(["category", "none"]),
    default=None,
    help="category: spread each widget category (teach categories) over the splits by its "
    "share; none: the whole set only (default: project.stratify).",
)
@click.pass_context
def command(
    ctx: click.Context,
    set_name: str,
    force: bool,
    max_tokens: int | None,
    reshuffle: bool,
    example_limit: int | None,
    stratify: str | None,
) -> None:
    """Build datasets/NAME/{train,valid,test}.jsonl in Apple's adapter schema plus manifest.json,
    applying the token budget and curation decisions. Deterministic 80/10/10 split, each split
    within one of its share; an example keeps its split in later builds of the same set.

    Example: graftwork build --set widgets_v1
    Dry run on 100 examples: graftwork build --set dry --limit 100 && graftwork train --set dry
    """
    from graftwork import wiring
    from graftwork.core.dataset.build import check_set_name, orphan_manifest

    ws = workspace_from(ctx)
    check_set_name(set_name)
    if (
        (ws.datasets_dir / set_name).exists()
        and not force
        and orphan_manifest(ws, set_name) is None  # a lost catalog row: build records it
    ):
        raise click.UsageError(
            f"dataset '{set_name}' already exists at {ws.datasets_dir / set_name}; "
            "pass --force to replace it"
        )
    wiring.token_counter(ws)  # config errors surface before the job starts
    result = run_with_progress(
        ws,
        "build",
        {
            "set_name": set_name,
            "force": force,
            "max_tokens": max_tokens,
            "reshuffle": reshuffle,
            "example_limit": example_limit,
            "stratify": stratify,
        },
    )
    s = result.summary
    no_prompt = [i for i, r in result.skipped if r == "no prompt yet"]
    for item_id, reason in result.skipped:
        if reason != "no prompt yet":
            out_console.print(
                f"  skipped {item_id}: {reason}", markup=False, highlight=False, soft_wrap=True
            )
    if no_prompt:
        out_console.print(
            f"  skipped {len(no_prompt)} widget(s) without a prompt yet (graftwork prompts draft)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )
    if s.get("left_out_by_limit"):
        out_console.print(
            f"  left out {s['left_out_by_limit']} usable example(s) over --limit {example_limit}",
            markup=False,
            highlight=False,
        )
    c = s["counts"]
    out_console.print(
        f"wrote {s['path']} ({len(result.skipped)} skipped, max {s['max_tokens']} tokens, "
        f"{s['tokenizer']}, {s['token_counts']} counts)",
        markup=False,
        highlight=False,
        soft_wrap=True,
    )
    finish(result, f"built {set_name}: train {c['train']}, valid {c['valid']}, test {c['test']}")
