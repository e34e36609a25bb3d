"""`graftwork plan`: a spec becomes planned prompts (the plan recipe's first stage)."""

from __future__ import annotations

import click

from graftwork.commands._common import finish, out_console, run_with_progress, workspace_from


@click.command("plan")
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

    Example: graftwork plan --spec configs/specs/travel_guide.yaml
    """
    from graftwork.core.plan.planner import resolve_spec
    from graftwork.core.spec.load import load_spec

    ws = workspace_from(ctx)
    path = resolve_spec(ws, spec)
    load_spec(path)  # a bad spec is an error (exit 2) before a job is recorded
    result = run_with_progress(ws, "plan", {"spec": str(path)})
    s = result.summary
    for category, c in s["counts"].items():
        out_console.print(
            f"  {category}: {c['planned']} of {c['target']}", markup=False, highlight=False
        )
    finish(
        result,
        f"planned {s['prompts']} prompts for {s['dataset']} {s['version']} -> {s['plan_file']}",
    )
