"""Summaries of raw samples, shared by the suite's sections and its report."""
from __future__ import annotations

import math
import statistics


def percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an already sorted, non-empty list."""
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def summarize(samples: list[float]) -> dict | None:
    """n, mean, min, p50, p90, p99 and max of ``samples`` (None when there are none)."""
    if not samples:
        return None
    ordered = sorted(samples)
    figures = {"n": len(ordered), "mean": statistics.fmean(ordered), "min": ordered[0],
               "p50": statistics.median(ordered), "p90": percentile(ordered, 0.90),
               "p99": percentile(ordered, 0.99), "max": ordered[-1]}
    return {key: value if key == "n" else round(value, 3) for key, value in figures.items()}


def ratio(value: float | None, baseline: float | None) -> float | None:
    """value / baseline, rounded; None when either is missing or the baseline is 0."""
    if value is None or not baseline:
        return None
    return round(value / baseline, 2)
