"""The seed's analyze_widget_sizes.py: code-only token counts and its four recommendations
(exclusion, truncation, hybrid, chunking), each quantified. Pure arithmetic."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from graftwork.core.budget.stats import histogram, stats
from graftwork.core.budget.tokens import counts_label

HYBRID_FACTOR = 2  # hybrid: exclude widgets above 2x the limit, truncate the rest


def widget_size_report(
    code_tokens: Mapping[str, int], max_tokens: int, tokenizer: str = ""
) -> dict[str, Any]:
    over = {i: t for i, t in code_tokens.items() if t > max_tokens}
    extreme = {i: t for i, t in over.items() if t > HYBRID_FACTOR * max_tokens}
    moderate = {i: t for i, t in over.items() if i not in extreme}
    totals = list(code_tokens.values())
    return {
        "max_sequence_length": max_tokens,
        "tokenizer": tokenizer,
        "token_counts": counts_label(tokenizer),  # exact | approximate (an added key)
        "note": "widget code only: system prompt, tools, user prompt and JSON structure are not counted",
        "stats": stats(totals),
        "histogram": histogram(totals, 10),
        "total_widgets": len(code_tokens),
        "widgets_over_limit": len(over),
        "widgets": {
            i: {"tokens": t, "over_limit": t > max_tokens, "over_by": max(0, t - max_tokens)}
            for i, t in sorted(code_tokens.items(), key=lambda kv: (-kv[1], kv[0]))
        },
        "recommendations": {
            "exclusion": {
                "description": "Remove every widget over the limit.",
                "widgets_excluded": len(over),
                "widgets_kept": len(code_tokens) - len(over),
                "tokens_lost": sum(over.values()),
                "excluded": sorted(over),
            },
            "truncation": {
                "description": "Cut every widget over the limit down to the limit.",
                "widgets_truncated": len(over),
                "tokens_cut": sum(t - max_tokens for t in over.values()),
            },
            "hybrid": {
                "description": f"Exclude widgets over {HYBRID_FACTOR}x the limit, truncate the moderate ones.",
                "extreme_threshold": HYBRID_FACTOR * max_tokens,
                "widgets_excluded": len(extreme),
                "tokens_lost": sum(extreme.values()),
                "excluded": sorted(extreme),
                "widgets_truncated": len(moderate),
                "tokens_cut": sum(t - max_tokens for t in moderate.values()),
            },
            "chunking": {
                "description": "Split every widget over the limit into chunks of at most the limit.",
                "widgets_chunked": len(over),
                "chunks_needed": sum(math.ceil(t / max_tokens) for t in over.values()),
                "chunk_size": max_tokens,
            },
        },
    }
