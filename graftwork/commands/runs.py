"""`graftwork runs`: list training runs."""

from __future__ import annotations

import json

import click
from rich.table import Table

from graftwork.commands._common import out_console, workspace_from
from graftwork.core.base.workspace import Workspace
from graftwork.core.train.runs import duration_seconds, list_runs


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


def _compare(ws: Workspace, a: str, b: str, *, as_json: bool) -> None:
    from graftwork.core.eval.compare import compare_rows
    from graftwork.core.eval.store import latest_scores
    from graftwork.core.train.runs import get_run

    with ws.catalog() as db:
        runs = [get_run(db, a), get_run(db, b)]
        scores = [latest_scores(db, r["id"]) for r in runs]
    if as_json:
        ids = [r["id"] for r in runs]
        click.echo(json.dumps(dict(zip(ids, scores, strict=True)), indent=2, default=str))
        return
    for label, run, got in zip("AB", runs, scores, strict=True):
        if not got:
            out_console.print(
                f"{label} = {run['id']} has no evaluation yet: graftwork eval --run {run['id']}",
                markup=False,
                highlight=False,
            )
    table = Table(box=None, header_style="bold")
    for col in ("metric", "source", f"A {runs[0]['id']}", f"B {runs[1]['id']}", "Δ B − A"):
        table.add_column(col, justify="left" if col in ("metric", "source") else "right")
    best = [r.get("best_val_loss") for r in runs]
    if any(v is not None for v in best):
        from graftwork.core.eval.report import fmt, fmt_delta

        table.add_row(
            "best val loss",
            "training",
            fmt("loss", best[0]),
            fmt("loss", best[1]),
            fmt_delta("loss", best[0], best[1]),
        )
    for row in compare_rows(*scores):
        table.add_row(*row)
    out_console.print(table, markup=False, highlight=False)


CANCEL_WAIT_SECONDS = 30.0  # the run stops within ~2 s; this only bounds a stuck follower


def _cancel(ws: Workspace, run_ref: str) -> None:
    from graftwork.core.train.cancel import request_cancel, wait_stopped

    with ws.catalog() as db:
        run = request_cancel(ws, db, run_ref)
    out_console.print(f"cancelling run {run['id']}…", markup=False, highlight=False)
    after = wait_stopped(ws, run["id"], CANCEL_WAIT_SECONDS)
    if after["state"] == "running":
        raise click.ClickException(
            f"run {run['id']} is still running {CANCEL_WAIT_SECONDS:.0f} s after the request"
        )
    out_console.print(
        f"run {run['id']} {after['state']} at iteration {after.get('last_iteration') or 0}"
        f"; resume with: graftwork train --resume {run['id']}",
        markup=False,
        highlight=False,
    )


@click.command("runs")
@click.option("--set", "set_name", metavar="NAME", help="Only runs of this set.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.option(
    "--compare",
    nargs=2,
    metavar="A B",
    default=None,
    help="Compare two runs' evaluation scores (newest per metric, adapter values) with B − A.",
)
@click.option(
    "--cancel",
    "cancel",
    metavar="RUN",
    default=None,
    help="Cancel a running training run (id or unique prefix), wherever it was started; "
    "waits until it stopped (within about 2 s) and says where it resumes.",
)
@click.pass_context
def command(
    ctx: click.Context,
    set_name: str | None,
    as_json: bool,
    compare: tuple[str, str] | None,
    cancel: str | None,
) -> None:
    """List training runs, newest first: id, set, state, iterations, best val loss, start, duration.

    With --compare A B: a table of every metric either run was evaluated on (`graftwork eval`),
    A's and B's values and the change from A to B.

    With --cancel RUN: stop a run that is training (it keeps its last checkpoint;
    `graftwork train --resume RUN` continues it)."""
    ws = workspace_from(ctx)
    if cancel:
        _cancel(ws, cancel)
        return
    if compare:
        _compare(ws, *compare, as_json=as_json)
        return
    with ws.catalog() as db:
        rows = list_runs(db, set_name)
    if as_json:
        click.echo(json.dumps(rows, indent=2, default=str))
        return
    if not rows:
        out_console.print("no runs yet: graftwork train --set NAME")
        return
    table = Table(box=None, header_style="bold")
    for col in ("id", "set", "state", "iters", "best val", "started", "duration"):
        table.add_column(
            col, justify="right" if col in ("iters", "best val") else "left", no_wrap=True
        )
    for r in rows:
        best = (
            f"{r['best_val_loss']:.4f}@{r['best_iteration']}"
            if r.get("best_val_loss") is not None
            else "-"
        )
        iters = f"{r.get('last_iteration') or 0}/{r.get('total_iters') or '?'}"
        table.add_row(
            r["id"],
            r["set_name"],
            r["state"],
            iters,
            best,
            (r.get("started_at") or "")[:19].replace("T", " "),
            _duration(duration_seconds(r)),
        )
    out_console.print(table, markup=False, highlight=False)  # set names are user data, not markup
    for r in rows:
        if r["state"] == "interrupted":  # killed: say what to do next, once per run
            out_console.print(
                f"{r['id']} was interrupted: `graftwork train --resume {r['id']}` continues "
                "from its last checkpoint, or restarts it with the same settings if it has none",
                markup=False,
                highlight=False,
            )
