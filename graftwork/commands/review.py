"""`graftwork review list|set|promote|export`: verdicts on samples, promotion, report."""

from __future__ import annotations

from pathlib import Path

import click
from rich.table import Table

from graftwork.commands._common import out_console, workspace_from


@click.group("review")
def command() -> None:
    """Review samples: list them, set verdicts, promote accepted outputs, export a report."""


def _clip(text: str | None, width: int = 60) -> str:
    one_line = " ".join((text or "").split())
    return one_line if len(one_line) <= width else one_line[: width - 1] + "…"


@command.command("list")
@click.option("--run", "run_id", required=True, help="Training run id (or a unique prefix).")
@click.pass_context
def list_cmd(ctx: click.Context, run_id: str) -> None:
    """Samples of a run with their verdicts."""
    from graftwork.core.review.samples import list_samples
    from graftwork.core.train.runs import get_run

    ws = workspace_from(ctx)
    with ws.catalog() as db:
        run = get_run(db, run_id)
        rows = list_samples(db, run["id"])
    if not rows:
        out_console.print(
            f"run {run['id']} has no samples yet: run `graftwork sample --run {run['id']}`",
            markup=False,
            highlight=False,
        )
        return
    table = Table(box=None, header_style="bold")
    for col in ("id", "item", "verdict", "score", "promoted", "adapter output", "note"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(
            str(r["id"]),
            r["item_id"],
            r["verdict"],
            str(r["score"] or "-"),
            "yes" if r["promoted"] else "",
            _clip(r["adapter_output"]),
            _clip(r["note"], 30),
        )
    out_console.print(table, markup=False, highlight=False)


@command.command("set")
@click.argument("sample_id", type=int)
@click.option("--accept", is_flag=True, help="Accept the adapter's output.")
@click.option("--reject", is_flag=True, help="Reject the adapter's output.")
@click.option("--clear", is_flag=True, help="Clear the verdict.")
@click.option("--score", type=click.IntRange(1, 5), default=None, help="1 (bad) to 5 (excellent).")
@click.option("--note", default=None)
@click.pass_context
def set_cmd(
    ctx: click.Context,
    sample_id: int,
    accept: bool,
    reject: bool,
    clear: bool,
    score: int | None,
    note: str | None,
) -> None:
    """Record a verdict, score or note on one sample."""
    from graftwork.core.review.review import set_verdict

    chosen = [v for v, on in (("accept", accept), ("reject", reject), ("none", clear)) if on]
    if len(chosen) > 1:
        raise click.UsageError("give only one of --accept, --reject and --clear")
    verdict = chosen[0] if chosen else None
    if verdict is None and score is None and note is None:
        raise click.UsageError("give --accept, --reject, --clear, --score or --note")
    ws = workspace_from(ctx)
    with ws.catalog() as db:
        row = set_verdict(db, sample_id, verdict, score, note)
    out_console.print(
        f"sample {sample_id}: {row['verdict']}"
        + (f", score {row['score']}" if row["score"] else ""),
        markup=False,
        highlight=False,
    )


@command.command("promote")
@click.option("--run", "run_id", required=True, help="Training run id (or a unique prefix).")
@click.pass_context
def promote_cmd(ctx: click.Context, run_id: str) -> None:
    """Promote accepted adapter outputs into the catalog as new generated examples."""
    from graftwork.core.review.review import promote_run
    from graftwork.core.train.runs import get_run

    ws = workspace_from(ctx)
    with ws.catalog() as db:
        run = get_run(db, run_id)
        rows = promote_run(ws, db, run["id"])
    for r in rows:
        out_console.print(
            f"{r['item_id']}  (from {r['source_item_id']}, sample {r['sample_id']})",
            markup=False,
            highlight=False,
        )
    out_console.print(
        f"promoted {len(rows)} sample(s) of run {run['id']}; they join the next `graftwork build`",
        markup=False,
        highlight=False,
    )


@command.command("export")
@click.option(
    "--run", "run_ids", required=True, multiple=True, help="Run id (repeat to compare runs)."
)
@click.option(
    "--out",
    "out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Markdown file (default: runs/<run>/review.md).",
)
@click.pass_context
def export_cmd(ctx: click.Context, run_ids: tuple[str, ...], out: Path | None) -> None:
    """Write a Markdown report with scores per run and every sample side by side."""
    from graftwork.core.base.atomic import write_text
    from graftwork.core.review.report import render_report
    from graftwork.core.train.runs import get_run

    ws = workspace_from(ctx)
    with ws.catalog() as db:
        text = render_report(db, list(run_ids))
        first = get_run(db, run_ids[0])["id"]
    path = out or ws.runs_dir / first / "review.md"
    path.parent.mkdir(parents=True, exist_ok=True)
    write_text(path, text)
    out_console.print(f"report written to {path}", markup=False, highlight=False)
