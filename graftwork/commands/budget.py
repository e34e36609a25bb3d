from __future__ import annotations

import click

from graftwork.commands._common import finish, out_console, run_with_progress, workspace_from


@click.command("budget")
@click.option(
    "--max-tokens",
    type=click.IntRange(min=1),
    default=None,
    help="Token limit per example (default: project.max_sequence_length, 4095).",
)
@click.option(
    "--widgets-only",
    is_flag=True,
    help="Code-only counts of every JSX widget -> widget_size_analysis.json (no prompts needed).",
)
@click.pass_context
def command(ctx: click.Context, max_tokens: int | None, widgets_only: bool) -> None:
    """Count the tokens of every complete example exactly as `build` writes it and write
    training_data_size_analysis.json and training_data_strategy.json (keep/exclude per widget).

    Example: graftwork budget --max-tokens 4095
    """
    from graftwork import wiring
    from graftwork.core.budget.tokens import APPROXIMATE_HINT

    ws = workspace_from(ctx)
    wiring.token_counter(ws)  # config errors surface before the job starts
    result = run_with_progress(
        ws, "budget", {"max_tokens": max_tokens, "widgets_only": widgets_only}
    )
    s = result.summary
    if widgets_only:
        rec = s["recommendations"]
        lines = [
            f"{s['widgets']} JSX widgets, {s['over_limit']} over {s['max_tokens']} tokens "
            f"(code only, {s['token_counts']} counts)",
            f"  exclusion:  drop {rec['exclusion']['widgets_excluded']}, lose {rec['exclusion']['tokens_lost']} tokens",
            f"  truncation: cut {rec['truncation']['widgets_truncated']}, cut {rec['truncation']['tokens_cut']} tokens",
            f"  hybrid:     drop {rec['hybrid']['widgets_excluded']} (> {rec['hybrid']['extreme_threshold']}), "
            f"truncate {rec['hybrid']['widgets_truncated']} ({rec['hybrid']['tokens_cut']} tokens cut)",
            f"  chunking:   {rec['chunking']['widgets_chunked']} widgets -> {rec['chunking']['chunks_needed']} chunks",
        ]
        for line in lines:
            _say(line)
        finish(result, "wrote widget_size_analysis.json")
        return
    st = s["stats"]
    _say(
        f"{st['count']} examples ({s['tokenizer_label']}): min {st['min']:g}, "
        f"median {st['median']:g}, p90 {st['p90']:g}, max {st['max']:g} tokens"
    )
    if s["token_counts"] != "exact":
        _say(f"note: {APPROXIMATE_HINT} (see graftwork doctor)")
    if result.skipped:
        _say(f"{len(result.skipped)} widget(s) not counted (no usable prompt)")
    if s["excluded"]:
        _say(f"excluded (over {s['max_tokens']} tokens):")
        for e in sorted(s["excluded"], key=lambda e: -e["over_by"]):
            _say(
                f"  {e['id']}: {e['total']} tokens (widget code {e['widget']}), over by {e['over_by']}"
            )
    _say("wrote training_data_size_analysis.json and training_data_strategy.json")
    finish(
        result,
        f"keep {s['keep']}, exclude {s['exclude']} at max {s['max_tokens']} tokens "
        f"({s['token_counts']} counts)",
    )


def _say(line: str) -> None:
    # soft_wrap: one line stays one line when piped (scripts grep these)
    out_console.print(line, markup=False, highlight=False, soft_wrap=True)
