"""Summary numbers and histograms over token totals: pure arithmetic shared by the budget and
the widget-size report (so neither imports the other)."""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence


def _percentile(sorted_values: Sequence[int], q: float) -> float:
    """Linear interpolation between closest ranks (numpy's default)."""
    pos = (len(sorted_values) - 1) * q
    lo, hi = math.floor(pos), math.ceil(pos)
    return sorted_values[lo] + (sorted_values[hi] - sorted_values[lo]) * (pos - lo)


def stats(totals: Sequence[int]) -> dict[str, float | int]:
    if not totals:
        return {"count": 0, "min": 0, "max": 0, "mean": 0, "median": 0, "p90": 0}
    values = sorted(totals)
    return {
        "count": len(values),
        "min": values[0],
        "max": values[-1],
        "mean": round(statistics.fmean(values), 1),
        "median": round(_percentile(values, 0.5), 1),
        "p90": round(_percentile(values, 0.9), 1),
    }


def histogram(totals: Sequence[int], bins: int | Sequence[int]) -> list[dict[str, int]]:
    """Buckets [lo, hi) (the last one includes its hi) with counts.

    ``bins`` is a number of equal-width buckets from 0 to the largest value, or explicit
    ascending edges (values outside the edges are not counted).
    """
    if isinstance(bins, int):
        if bins < 1:
            raise ValueError("bins must be at least 1")
        top = max(totals, default=0)
        width = max(1, math.ceil((top + 1) / bins))
        edges = [i * width for i in range(bins + 1)]
    else:
        edges = list(bins)
        if len(edges) < 2 or edges != sorted(edges):
            raise ValueError("bin edges must be at least two ascending numbers")
    counts = [0] * (len(edges) - 1)
    last = len(counts) - 1
    for t in totals:
        if t < edges[0] or t > edges[-1]:
            continue
        lo, hi = 0, last
        while lo < hi:  # binary search for the bucket whose [lo, hi) holds t
            mid = (lo + hi + 1) // 2
            if edges[mid] <= t:
                lo = mid
            else:
                hi = mid - 1
        counts[lo] += 1
    return [{"lo": edges[i], "hi": edges[i + 1], "count": c} for i, c in enumerate(counts)]
