"""Reciprocal rank fusion of ranked lists (pure).

RRF (Cormack, Clarke & Büttcher, SIGIR 2009) scores an item by Σ wᵢ / (k + rankᵢ) over the lists
that hold it. It needs no calibration between a cosine similarity and a bm25 score, and an item
near the top of either list rises. Scores here are divided by the best possible one, so 1.0 means
"first in every list".
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

RRF_K = 60


@dataclass
class Fused:
    item: int
    score: float
    ranks: dict[str, int] = field(default_factory=dict)  # 1-based rank in each list holding it


def reciprocal_rank_fusion(
    lists: Mapping[str, Sequence[int]], *, k: int = RRF_K, weights: Mapping[str, float] | None = None
) -> list[Fused]:
    """Fuse ranked lists of ids (best first); ties go to the better single rank, then the smaller id."""
    weights = weights or {}
    best = sum(weights.get(name, 1.0) for name in lists) / (k + 1) or 1.0
    fused: dict[int, Fused] = {}
    for name, items in lists.items():
        weight = weights.get(name, 1.0)
        for rank, item in enumerate(items, start=1):
            entry = fused.setdefault(item, Fused(item, 0.0))
            if name in entry.ranks:
                continue  # a list repeating an item counts it once, at its best rank
            entry.ranks[name] = rank
            entry.score += weight / (k + rank)
    out = list(fused.values())
    for entry in out:
        entry.score /= best
    out.sort(key=lambda e: (-e.score, min(e.ranks.values()), e.item))
    return out
