"""How good a set of predictions is (pure): ROC AUC, average precision, per-day precision@k,
Brier score and a reliability table.

* ROC AUC: the chance that a random featured paper is ranked above a random other one.
* Average precision: the area under the precision–recall curve (the base rate is its floor).
* Precision@k per day: of each day's k most likely papers, the share that was featured,
  averaged over the days (what a reader of the "Likely to trend" tab sees).
* Brier score: mean squared error of the probabilities (lower is better; always answering the
  base rate b scores b(1−b)).
* Reliability: papers grouped by predicted probability; in each group the mean prediction
  next to the observed share. Calibrated means the two agree.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from itertools import pairwise
from typing import Any

import numpy as np
import numpy.typing as npt
from sklearn.metrics import average_precision_score, roc_auc_score

RELIABILITY_EDGES = (0.0, 0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8, 1.0)


@dataclass(frozen=True)
class ReliabilityBin:
    low: float
    high: float
    n: int
    mean_predicted: float
    observed: float


@dataclass(frozen=True)
class Scores:
    n: int
    positives: int
    days: int
    auc: float | None
    average_precision: float | None
    precision_at_k: float | None
    k: int
    brier: float | None
    base_rate: float
    reliability: tuple[ReliabilityBin, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["reliability"] = [asdict(b) for b in self.reliability]
        return out


def precision_at_k_per_day(
    scores: npt.ArrayLike, labels: npt.ArrayLike, days: Sequence[Any], k: int = 10
) -> float | None:
    """Mean over days of the featured share among the day's k highest scores.

    Ties are broken by row order, so give the rows in a fixed order (they are, from the replay).
    """
    s, y = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    by_day: dict[Any, list[int]] = defaultdict(list)
    for i, day in enumerate(days):
        by_day[day].append(i)
    shares = []
    for rows in by_day.values():
        top = sorted(rows, key=lambda i: (-s[i], i))[:k]
        if top:
            shares.append(float(y[top].mean()))
    return float(np.mean(shares)) if shares else None


def reliability(
    probabilities: npt.ArrayLike, labels: npt.ArrayLike, edges: Sequence[float] = RELIABILITY_EDGES
) -> tuple[ReliabilityBin, ...]:
    p, y = np.asarray(probabilities, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    out = []
    for i, (low, high) in enumerate(pairwise(edges)):
        last = i == len(edges) - 2
        mask = (p >= low) & ((p <= high) if last else (p < high))
        if mask.any():
            out.append(
                ReliabilityBin(low, high, int(mask.sum()), float(p[mask].mean()), float(y[mask].mean()))
            )
    return tuple(out)


def evaluate(
    scores: npt.ArrayLike,
    labels: npt.ArrayLike,
    days: Sequence[Any],
    *,
    k: int = 10,
    probabilities: bool = True,
) -> Scores:
    """Every figure for one set of predictions. `probabilities=False` (a ranking score such as an
    author count) skips the Brier score and the reliability table, which need probabilities."""
    s, y = np.asarray(scores, dtype=np.float64), np.asarray(labels, dtype=np.int64)
    both = len(np.unique(y)) == 2
    return Scores(
        n=len(y),
        positives=int(y.sum()),
        days=len(set(days)),
        auc=float(roc_auc_score(y, s)) if both else None,
        average_precision=float(average_precision_score(y, s)) if both else None,
        precision_at_k=precision_at_k_per_day(s, y, days, k),
        k=k,
        brier=float(np.mean((s - y) ** 2)) if probabilities and len(y) else None,
        base_rate=float(y.mean()) if len(y) else 0.0,
        reliability=reliability(s, y) if probabilities else (),
    )
