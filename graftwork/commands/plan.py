"""`graftwork plan`: a spec becomes planned prompts (the plan recipe's first stage);
`plan accept|reject ID...` decide answers by hand, `plan list` shows where each prompt is."""

from __future__ import annotations

import sys

import click

from graftwork.commands._common import finish, out_console, run_with_progress, workspace_from
from graftwork.core.plan.status import STAGES

AREAS = {False: "main", True: "sample"}


def _say(text: str) -> None:
    out_console.print(text, markup=False, highlight=False)


@click.group("plan", invoke_without_command=True)
@click.option(
    "--spec",
    type=click.Path(dir_okay=False),
    default=None,
    help="The spec YAML (default: spec.yaml in the workspace).",
)
@click.pass_context
def command(ctx: click.Context, spec: str | None) -> None:
    """Expand the spec into planned prompts: catalog items (source plan) and
    data/interim/prompt_plan_<version>.jsonl. Deterministic for the spec's seed; never the
    same prompt twice. Templates that cannot be filled are skipped with a warning.

    After the teacher stages: `plan list` shows each prompt's stage and gate reasons,
    `plan accept|reject ID...` decide answers by hand (as the workstation's a and x keys).

    Example: graftwork plan --spec configs/specs/travel_guide.yaml
    """
    if ctx.invoked_subcommand is not None:
        if spec is not None:
            raise click.UsageError(
                f"--spec belongs to `graftwork plan`, not `plan {ctx.invoked_subcommand}`"
            )
        return
    from graftwork.core.plan.planner import resolve_spec
    from graftwork.core.spec.load import load_spec

    ws = workspace_from(ctx)
    path = resolve_spec(ws, spec)
    load_spec(path)  # a bad spec is an error (exit 2) before a job is recorded
    result = run_with_progress(ws, "plan", {"spec": str(path)})
    s = result.summary
    for category, c in s["counts"].items():
        _say(f"  {category}: {c['planned']} of {c['target']}")
    finish(
        result,
        f"planned {s['prompts']} prompts for {s['dataset']} {s['version']} -> {s['plan_file']}",
    )


def _decide(
    ctx: click.Context, item_ids: tuple[str, ...], state: str, note: str | None, sample: bool
) -> None:
    from graftwork.core.plan.decisions import decide

    ws = workspace_from(ctx)
    with ws.catalog() as db:
        done = decide(ws, db, item_ids, state, note or "", area=AREAS[sample])
    for item_id in done.done:
        _say(f"{item_id}: {state} by hand" + (f" ({note})" if note else ""))
    for item_id, cause in done.failed:
        click.echo(f"{item_id}: {cause}", err=True)
    if done.files:
        _say(f"rewrote {', '.join(str(p) for p in done.files if 'dataset_' in p.name)}")
    if done.failed:
        sys.exit(1 if done.done else 2)


_ids = click.argument("item_ids", metavar="ID...", nargs=-1, required=True)
_note = click.option(
    "--note", default=None, help="Why (kept with the decision and in the dataset files)."
)
_sample = click.option(
    "--sample", is_flag=True, help="Decide in the sample area (`teach --sample`)."
)


@command.command("accept")
@_ids
@_note
@_sample
@click.pass_context
def accept(ctx: click.Context, item_ids: tuple[str, ...], note: str | None, sample: bool) -> None:
    """Accept each prompt's answer by hand (the gate's answer, else the refined one, else the
    draft): it enters dataset_<v>.jsonl and later `teach refine` runs keep the decision.
    A dry-run placeholder or an empty answer is never accepted.

    Example: graftwork plan accept travel-0a1b2c3d4e5f --note "prose is fine here"
    """
    _decide(ctx, item_ids, "accepted", note, sample)


@command.command("reject")
@_ids
@_note
@_sample
@click.pass_context
def reject(ctx: click.Context, item_ids: tuple[str, ...], note: str | None, sample: bool) -> None:
    """Reject each prompt's answer by hand: it moves to dataset_<v>_rejected.jsonl with the
    reason `manual: NOTE`, and later `teach refine` runs keep the decision."""
    _decide(ctx, item_ids, "rejected", note, sample)


@command.command("list")
@click.option(
    "--stage",
    "stages",
    multiple=True,
    type=click.Choice(STAGES),
    help="Only prompts at this stage (repeatable).",
)
@click.pass_context
def list_(ctx: click.Context, stages: tuple[str, ...]) -> None:
    """One line per planned prompt: id, category, stage, gate reasons or how it was
    accepted, start of the prompt (tab-separated, so scripts can cut/awk it)."""
    from graftwork.core.plan.store import latest_spec
    from graftwork.core.plan.view import PlanItemsView

    ws = workspace_from(ctx)
    with ws.catalog() as db:
        latest_spec(db)  # no plan yet: one line, exit 2
        rows = PlanItemsView(ws).rows(db)
    shown = 0
    for r in rows:
        if stages and r["stage"] not in stages:
            continue
        first = " ".join(r["prompt"].split())
        click.echo(f"{r['id']}\t{r['category']}\t{r['stage']}\t{r['gate']}\t{first[:70]}")
        shown += 1
    click.echo(f"{shown} prompt(s)", err=True)
