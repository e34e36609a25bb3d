"""`graftwork runs`: list training runs."""

from __future__ import annotations

import json

import click
from rich.table import Table

from graftwork.commands._common import out_console, workspace_from
from graftwork.core.train.runs import duration_seconds, list_runs


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return ""
    m, s = divmod(int(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


@click.command("runs")
@click.option("--set", "set_name", metavar="NAME", help="Only runs of this set.")
@click.option("--json", "as_json", is_flag=True, help="Print the runs as JSON.")
@click.pass_context
def command(ctx: click.Context, set_name: str | None, as_json: bool) -> None:
    """List training runs, newest first: id, set, state, iterations, best val loss, start, duration."""
    ws = workspace_from(ctx)
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
