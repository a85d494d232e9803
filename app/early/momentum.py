"""A topic's momentum as of a day, from its papers per day (pure).

momentum(D) = log2( share in the 7 days before D / share in the 8 weeks before those )

where a share is the topic's papers over all papers of those days, each smoothed by one
paper (so a topic with a handful of papers does not swing wildly). Only days before D count:
the momentum of a paper's topics on its announcement morning, never after. A paper's value is
the mean momentum of its topics weighted by how well it fits each; None when no topic of it has
counts (the input is then left out, not set to a made-up 0).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import date, timedelta

RECENT_DAYS = 7
BASELINE_DAYS = 56

DailyCounts = Mapping[date, int]


def _window_sum(counts: DailyCounts, start: date, end: date) -> int:
    """Sum over the days in [start, end)."""
    total = 0
    day = start
    while day < end:
        total += counts.get(day, 0)
        day += timedelta(days=1)
    return total


def topic_momentum(topic: DailyCounts, everything: DailyCounts, day: date) -> float | None:
    """Momentum of one topic on the morning of `day` (None: no papers at all before it)."""
    recent_start = day - timedelta(days=RECENT_DAYS)
    base_start = recent_start - timedelta(days=BASELINE_DAYS)
    n_recent = _window_sum(everything, recent_start, day)
    n_base = _window_sum(everything, base_start, recent_start)
    if n_recent == 0 or n_base == 0:
        return None
    c_recent = _window_sum(topic, recent_start, day)
    c_base = _window_sum(topic, base_start, recent_start)
    return math.log2(((c_recent + 1) / (n_recent + 1)) / ((c_base + 1) / (n_base + 1)))


def paper_momentum(
    fits: Mapping[int, float],
    counts: Mapping[int, DailyCounts],
    everything: DailyCounts,
    day: date,
    cache: dict[tuple[int, date], float | None] | None = None,
) -> float | None:
    """Fit-weighted mean momentum of a paper's topics (`fits`: topic id → fit in [0, 1])."""
    total = weight = 0.0
    for topic_id, fit in fits.items():
        if fit <= 0 or topic_id not in counts:
            continue
        key = (topic_id, day)
        if cache is not None and key in cache:
            value = cache[key]
        else:
            value = topic_momentum(counts[topic_id], everything, day)
            if cache is not None:
                cache[key] = value
        if value is not None:
            total += fit * value
            weight += fit
    return total / weight if weight else None
