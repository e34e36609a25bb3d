"""`graftwork teach`: teacher-assisted prompts over any OpenAI-compatible API."""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from typing import Any

import click

from graftwork.commands._common import (
    err_console,
    finish,
    out_console,
    run_with_progress,
    workspace_from,
)


def teacher_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """The flags every teach command takes; they override graftwork.yaml and configs/teacher.yaml."""
    options = [
        click.option(
            "--base-url",
            default=None,
            help="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1.",
        ),
        click.option("--model", default=None, help="Teacher model name."),
        click.option(
            "--api-key-env",
            default=None,
            help="NAME of the environment variable holding the API key.",
        ),
        click.option(
            "--concurrency",
            type=click.IntRange(1, 256),
            default=None,
            help="Calls in flight at once.",
        ),
        click.option(
            "--dry-run/--no-dry-run",
            "dry_run",
            default=None,
            help="Placeholder '[dry-run]' text, no network call.",
        ),
    ]
    for option in reversed(options):
        fn = option(fn)

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # Imported here, not at module level: `graftwork --help` stays light.
        from graftwork.core.teach.config import FLAG_KEYS

        kwargs["overrides"] = {key: kwargs.pop(key) for key in FLAG_KEYS}
        return fn(*args, **kwargs)

    return wrapper


@click.group("teach")
def command() -> None:
    """Ask a teacher LLM for prompt drafts, critiques and refinements (seed 002's chain).

    Settings come from configs/teacher.yaml, then the workspace's `teacher:` section, then
    flags. The API key is read from the environment variable named by api_key_env and is never
    stored."""


def _widgets(value: str | None) -> list[str] | None:
    if not value:
        return None
    names = [w.strip() for w in value.split(",") if w.strip()]
    return names or None


def _where(est: dict[str, Any]) -> str:
    return "dry run, no network" if est["dry_run"] else f"{est['model']} at {est['base_url']}"


def _calls_line(est: dict[str, Any], by_stage: str = "") -> str:
    return (
        f"  calls to send: {est['calls']}"
        + (f" ({by_stage})" if by_stage else "")
        + (f"; {est['calls_reused']} already done, reused" if est["calls_reused"] else "")
    )


def _tokens_line(est: dict[str, Any]) -> str:
    return f"  tokens: ~{est['input_tokens']:,} in, at most {est['output_tokens_max']:,} out"


def _print_estimate_lines(
    lines: list[str], est: dict[str, Any], unreadable: list[Any], console: Any
) -> None:
    """An estimate's lines, then its notes and the items that will fail, never as markup."""
    lines = [
        *lines,
        *(f"  note: {note}" for note in est["notes"]),
        *(f"  will fail: {item}: {cause}" for item, cause in unreadable),
    ]
    for line in lines:
        console.print(line, markup=False, highlight=False, soft_wrap=True)


def _spent(s: dict[str, Any], extra: str = "") -> str:
    """The calls, tokens and cost part of a teach run's summary line."""
    return (
        f"calls sent {s['calls_sent']}, reused {s['calls_reused']}{extra}; "
        f"tokens {s['input_tokens']:,} in / {s['output_tokens']:,} out; cost {s['cost']:.4f}"
    )


def _confirm_and_run(
    ws: Any,
    stage: str,
    est: dict[str, Any],
    *,
    count: int,
    nothing: str,
    yes: bool,
    params: dict[str, Any],
) -> Any:
    """Stop with ``nothing`` when there is no work; else ask before calls cost money (not in
    a dry run, not with --yes or without a terminal) and run the stage with a progress bar.
    None when there was nothing to do."""
    if count == 0:
        out_console.print(nothing)
        return None
    if not yes and not est["dry_run"] and sys.stdin.isatty() and est["calls"] > 0:
        click.confirm("send these calls?", default=True, abort=True, err=True)
    return run_with_progress(ws, stage, params)


def _print_skipped(skipped: list[Any], prefix: str = "skipped ") -> None:
    for item, reason in skipped:
        err_console.print(f"  {prefix}{item}: {reason}", markup=False, highlight=False)


def _print_estimate(est: dict[str, Any], console: Any = err_console) -> None:
    stages = " + ".join(est["stages"])
    by_stage = ", ".join(f"{k} {v}" for k, v in est["calls_by_stage"].items() if v)
    lines = [
        f"teach {est['area']}{' (resuming run ' + est['run_id'] + ')' if est['run_id'] else ''}: "
        f"{est['items']} widget(s), {stages}, {_where(est)}",
        _calls_line(est, by_stage),
        f"{_tokens_line(est)} (code quoted up to {est['code_budget_tokens']} tokens a widget)",
        f"  cost: at most {est['cost_max']:.4f}"
        + (" (refinements counted for every widget)" if "refine" in est["stages"] else ""),
    ]
    _print_estimate_lines(lines, est, est["items_unreadable"], console)


@command.command("prompts")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=None,
    help="Process the next N widgets (a batch).",
)
@click.option("--widgets", default=None, help="Only these widgets (ids or names, comma-separated).")
@click.option("--critique", is_flag=True, help="Ask the teacher to critique each draft.")
@click.option(
    "--refine", is_flag=True, help="Refine drafts the critique did not pass (implies --critique)."
)
@click.option(
    "--gating",
    type=click.Choice(["lenient", "strict"]),
    default=None,
    help="How strictly results are accepted.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=None,
    help="Run on N widgets into the separate sample area (main prompts untouched).",
)
@click.option(
    "--resume",
    is_flag=True,
    help="Continue the last unfinished run with its widgets and options (with --sample: the last sample run).",
)
@click.option("--fresh", is_flag=True, help="Do not reuse finished calls of earlier runs.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@teacher_options
@click.pass_context
def prompts_cmd(ctx: click.Context, overrides: dict[str, Any], yes: bool, **options: Any) -> None:
    """For each JSX widget without an accepted prompt: draft (critique, refine), gate, store.

    Accepted results become prompt revisions (origin teacher, with model and call ids);
    rejected ones are kept as rejected revisions with their reasons. A run killed at any
    moment loses nothing: run again (or with --resume) and finished calls are reused."""
    from graftwork import wiring

    ws = workspace_from(ctx)
    options["widgets"] = _widgets(options["widgets"])
    est = wiring.teach_estimate(ws, overrides=overrides, **options)
    _print_estimate(est)
    _print_skipped(est["skipped"])
    result = _confirm_and_run(
        ws,
        "teach",
        est,
        count=est["items"],
        nothing="nothing to teach: every JSX widget has an accepted prompt (or none matched)",
        yes=yes,
        params={"overrides": overrides, **options},
    )
    if result is None:
        return
    s = result.summary
    _print_skipped([(i, r) for i, r in result.skipped if r.startswith("rejected")], prefix="")
    where = "sample area" if s["area"] == "sample" else "prompts"
    dry = " (dry run: nothing stored as prompts)" if s["dry_run"] and s["area"] == "main" else ""
    finish(
        result,
        f"run {s['run_id']}{dry}: {s['accepted']} accepted, {s['rejected']} rejected, "
        f"{s['failed']} failed into {where}; {_spent(s)}",
    )


def _print_categories_estimate(est: dict[str, Any], console: Any = err_console) -> None:
    resuming = f" (resuming run {est['run_id']})" if est["run_id"] else ""
    area = " into the sample area" if est["area"].endswith("sample") else ""
    lines = [
        f"teach categories{resuming}: {est['items']} widget(s){area}, one of "
        f"{len(est['categories'])} categories each, {_where(est)}",
        _calls_line(est) + " (plus one retry per reply that names no category)",
        _tokens_line(est),
        f"  cost: at most {est['cost_max']:.4f}",
    ]
    _print_estimate_lines(lines, est, est["items_unreadable"], console)


@command.command("categories")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="The next N widgets.")
@click.option(
    "--widgets",
    default=None,
    help="Only these widgets (ids or names, comma-separated), asked again if categorized.",
)
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=None,
    help="N widgets into the sample area (categories untouched); see `teach samples`.",
)
@click.option("--resume", is_flag=True, help="Continue the last unfinished run.")
@click.option("--fresh", is_flag=True, help="Do not reuse finished calls of earlier runs.")
@click.option("--estimate", "only_estimate", is_flag=True, help="Print the estimate and stop.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@teacher_options
@click.pass_context
def categories_cmd(
    ctx: click.Context, overrides: dict[str, Any], yes: bool, only_estimate: bool, **options: Any
) -> None:
    """One category per JSX widget from project.categories (default: clock, calendar, system
    monitor, weather, media, network, finance, productivity, other), written to
    widget_processing_results.csv as AI_category.

    A reply that names no listed category is asked once more, then the widget is recorded as
    failed with the replies as the reason. Widgets with a category are left alone unless named
    with --widgets. Example: graftwork teach categories --limit 20"""
    from graftwork import wiring

    ws = workspace_from(ctx)
    options["widgets"] = _widgets(options["widgets"])
    est = wiring.teach_categories_estimate(ws, overrides=overrides, **options)
    _print_categories_estimate(est, out_console if only_estimate else err_console)
    if only_estimate:
        return
    _print_skipped(est["skipped"])
    result = _confirm_and_run(
        ws,
        "teach.categories",
        est,
        count=est["items"],
        nothing="nothing to categorize: every JSX widget has a category (or none matched)",
        yes=yes,
        params={"overrides": overrides, **options},
    )
    if result is None:
        return
    s = result.summary
    spread = ", ".join(f"{k} {v}" for k, v in s["by_category"].items()) or "none"
    where = "sample area" if s["area"].endswith("sample") else "AI_category"
    dry = " (dry run: nothing stored)" if s["dry_run"] and where == "AI_category" else ""
    finish(
        result,
        f"run {s['run_id']}{dry}: {s['categorized']} categorized ({spread}), {s['failed']} "
        f"failed into {where}; {_spent(s)}",
    )


def _plan_stage_command(stage: str, summary: str) -> None:
    """`teach drafts|critiques|refine`: the plan recipe's teacher stages."""

    @command.command(stage)
    @click.option(
        "--limit",
        type=click.IntRange(min=1),
        default=None,
        help="Process the next N prompts (a batch).",
    )
    @click.option(
        "--sample",
        type=click.IntRange(min=1),
        default=None,
        help="Work on the first N planned prompts in the separate sample area.",
    )
    @click.option("--resume", is_flag=True, help="Continue the last unfinished run of this stage.")
    @click.option("--fresh", is_flag=True, help="Do not reuse finished calls of earlier runs.")
    @click.option(
        "--gating",
        type=click.Choice(["lenient", "strict"]),
        default=None,
        help="refine: how strictly answers are accepted (default: the spec's gating.mode).",
    )
    @click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
    @teacher_options
    @click.pass_context
    def stage_cmd(ctx: click.Context, overrides: dict[str, Any], yes: bool, **options: Any) -> None:
        from graftwork import wiring

        ws = workspace_from(ctx)
        if stage != "refine" and options["gating"]:
            raise click.UsageError("--gating applies to `teach refine` (where the gate runs)")
        est = wiring.plan_teach_estimate(ws, stage, overrides=overrides, **options)
        resuming = f", resuming run {est['run_id']}" if est["run_id"] else ""
        lines = [
            f"teach {stage} ({est['area']} area{resuming}): {est['items']} prompt(s), {_where(est)}",
            f"  calls to send: up to {est['calls']}; tokens: ~{est['input_tokens']:,} in, at most "
            f"{est['output_tokens_max']:,} out; cost: at most {est['cost_max']:.4f}",
        ]
        _print_estimate_lines(lines, est, [], err_console)
        if stage != "refine":
            options.pop("gating")  # only refine declares it (checked above)
        result = _confirm_and_run(
            ws,
            f"teach.{stage}",
            est,
            count=est["items"],
            nothing=f"nothing to do for {stage}",
            yes=yes,
            params={"overrides": overrides, **options},
        )
        if result is None:
            return
        s = result.summary
        _print_skipped(result.skipped, prefix="")
        outcomes = ", ".join(f"{v} {k}" for k, v in s["outcomes"].items()) or "nothing done"
        dry = ", dry run: placeholders only" if s["dry_run"] else ""
        finish(
            result, f"run {s['run_id']} ({stage}, {s['area']} area{dry}): {outcomes}; {_spent(s)}"
        )

    stage_cmd.help = summary


_plan_stage_command(
    "drafts",
    "Plan recipe: the teacher answers every planned prompt that has no answer yet.",
)
_plan_stage_command(
    "critiques",
    "Plan recipe: the teacher critiques every draft (JSON verdict pass|revise|fail + issues).",
)
_plan_stage_command(
    "refine",
    "Plan recipe: refine answers with issues, then gate them (--gating lenient|strict) into the dataset.",
)


def _print_instruct_estimate(est: dict[str, Any], console: Any = err_console) -> None:
    resuming = f" (resuming run {est['run_id']})" if est["run_id"] else ""
    lines = [
        f"teach instructions{resuming}: {est['chunks']} chunk(s) in batches of "
        f"{est['batch_size']}, {_where(est)}",
        _calls_line(est),
        _tokens_line(est),
        f"  cost: at most {est['cost_max']:.4f}",
    ]
    _print_estimate_lines(lines, est, est["unreadable"], console)


@command.command("instructions")
@click.option("--limit", type=click.IntRange(min=1), default=None, help="The next N chunks.")
@click.option(
    "--sample",
    type=click.IntRange(min=1),
    default=None,
    help="N chunks into the sample area (prompts untouched).",
)
@click.option("--repos", default=None, metavar="A,B", help="Only chunks of these repositories.")
@click.option(
    "--batch-size",
    type=click.IntRange(1, 50),
    default=None,
    help="Chunks per call (default readmes.instruct.batch_size, 3).",
)
@click.option("--resume", is_flag=True, help="Continue the last unfinished run.")
@click.option("--fresh", is_flag=True, help="Do not reuse finished calls of earlier runs.")
@click.option("--estimate", "only_estimate", is_flag=True, help="Print the estimate and stop.")
@click.option("--yes", "-y", is_flag=True, help="Do not ask for confirmation.")
@teacher_options
@click.pass_context
def instructions_cmd(
    ctx: click.Context,
    overrides: dict[str, Any],
    yes: bool,
    only_estimate: bool,
    repos: str | None,
    **options: Any,
) -> None:
    """readmes recipe: one instruction per README chunk, chunks batched in one call each.

    A reply with bad JSON or the wrong count is asked again, then each chunk alone, then the
    chunk fails with the reason. Instructions become the chunks' prompts (origin teacher). A
    run killed at any moment loses nothing: run again with --resume."""
    from graftwork import wiring

    ws = workspace_from(ctx)
    options["repos"] = _widgets(repos)
    est = wiring.instruct_estimate(ws, overrides=overrides, **options)
    _print_instruct_estimate(est, out_console if only_estimate else err_console)
    if only_estimate:
        return
    result = _confirm_and_run(
        ws,
        "teach.instructions",
        est,
        count=est["chunks"],
        nothing="nothing to teach: every chunk has an accepted instruction",
        yes=yes,
        params={"overrides": overrides, **options},
    )
    if result is None:
        return
    s = result.summary
    where = "sample area" if s["area"] == "instruct-sample" else "prompts"
    dry = " (dry run: nothing stored as prompts)" if s["dry_run"] and where == "prompts" else ""
    finish(
        result,
        f"run {s['run_id']}{dry}: {s['done']} instructions, {s['failed']} failed into {where}; "
        + _spent(s, f", unusable replies {s['unusable_replies']}"),
    )


@command.command("estimate")
@click.option("--limit", type=click.IntRange(min=1), default=None)
@click.option("--widgets", default=None)
@click.option("--critique", is_flag=True)
@click.option("--refine", is_flag=True)
@click.option("--gating", type=click.Choice(["lenient", "strict"]), default=None)
@click.option("--sample", type=click.IntRange(min=1), default=None)
@click.option("--resume", is_flag=True)
@click.option("--fresh", is_flag=True)
@click.option("--json", "as_json", is_flag=True, help="Print the estimate as JSON.")
@teacher_options
@click.pass_context
def estimate_cmd(
    ctx: click.Context, overrides: dict[str, Any], as_json: bool, **options: Any
) -> None:
    """Calls, tokens and cost that `teach prompts` with the same options would spend."""
    from graftwork import wiring

    ws = workspace_from(ctx)
    options["widgets"] = _widgets(options["widgets"])
    est = wiring.teach_estimate(ws, overrides=overrides, **options)
    if as_json:
        click.echo(json.dumps(est, indent=2))
    else:
        _print_estimate(est, out_console)


@command.command("log")
@click.option(
    "--limit", type=click.IntRange(min=1), default=30, show_default=True, help="Newest N calls."
)
@click.option("--errors", is_flag=True, help="Only failed calls and calls that needed retries.")
@click.option("--run", "run_id", default=None, help="Only the calls of this run.")
@click.option(
    "--json",
    "as_json",
    is_flag=True,
    help="Print rows as JSON lines (request and response included).",
)
@teacher_options
@click.pass_context
def log_cmd(
    ctx: click.Context,
    overrides: dict[str, Any],
    limit: int,
    errors: bool,
    run_id: str | None,
    as_json: bool,
) -> None:
    """List logged teacher calls: stage, widget, model, status, tokens, latency, cost, error."""
    from rich.table import Table

    from graftwork import wiring

    ws = workspace_from(ctx)
    rows = wiring.teach_log(ws, limit=limit, errors=errors, run_id=run_id)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    if not rows:
        out_console.print("no teacher calls logged" + (" with errors" if errors else ""))
        return
    table = Table(title=f"teacher calls (newest {len(rows)})")
    for name, just in (
        ("id", "right"),
        ("when", "left"),
        ("run", "left"),
        ("widget", "left"),
        ("stage", "left"),
        ("model", "left"),
        ("status", "left"),
        ("tries", "right"),
        ("in", "right"),
        ("out", "right"),
        ("ms", "right"),
        ("cost", "right"),
        ("error / retries", "left"),
    ):
        table.add_column(name, justify=just, overflow="fold")
    for r in rows:
        retries = json.loads(r["retries"] or "[]")
        problem = r["error"] or ("; ".join(retries) if retries else "")
        status_style = {"ok": "green", "dry-run": "cyan"}.get(r["status"], "red")
        table.add_row(
            str(r["id"]),
            (r["started_at"] or "")[:19].replace("T", " "),
            r["run_id"] or "-",
            _escape(r["item_id"] or "-"),
            r["stage"] or "",
            _escape(r["model"] or ""),
            f"[{status_style}]{r['status']}[/]",
            str(r["attempts"] or 0),
            str(r["input_tokens"] or 0),
            str(r["output_tokens"] or 0),
            str(r["latency_ms"] or 0),
            f"{r['cost'] or 0:.5f}",
            _escape(problem),
        )
    out_console.print(table)


@command.command("samples")
@click.option("--run", "run_id", default=None, help="A sample run id (default: the newest).")
@teacher_options
@click.pass_context
def samples_cmd(ctx: click.Context, overrides: dict[str, Any], run_id: str | None) -> None:
    """Show the results of a sample run (`teach prompts|categories --sample N`)."""
    from rich.table import Table

    ws = workspace_from(ctx)
    with ws.catalog() as db:
        if run_id is None:
            runs = list(
                db.query(
                    "SELECT id FROM teach_runs WHERE area IN ('sample', 'categories-sample') "
                    "ORDER BY created_at DESC, rowid DESC LIMIT 1"
                )
            )
            if not runs:
                out_console.print("no sample runs yet: try `graftwork teach prompts --sample 3`")
                return
            run_id = runs[0]["id"]
        rows = list(db.query("SELECT * FROM teach_samples WHERE run_id = ? ORDER BY id", [run_id]))
    table = Table(title=f"sample run {run_id}")
    for name in ("widget", "state", "prompt", "note"):
        table.add_column(name, overflow="fold")
    for r in rows:
        table.add_row(
            _escape(r["item_id"]), r["state"], _escape(r["text"]), _escape(r["note"] or "")
        )
    out_console.print(table)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
