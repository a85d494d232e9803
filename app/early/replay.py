"""Evaluations that cannot fool themselves: every prediction comes from a model trained at a
cutoff no later than the predicted paper's day (pure).

* `rolling`: for each test day D, train at cutoff D (labels known before D, `labels.LabelRule`)
  and predict the papers announced on D: what the pipeline does every morning.
* `holdout`: train once at the first test day and predict all test days: what a model trained
  today does over the following weeks (how the stored models are evaluated).

In both, a test paper is judged by its final label (the label at `truth_cutoff`), and its
inputs come from the feature rows, which are computed as of each paper's own day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import numpy.typing as npt

from app.early.labels import LabelFacts, LabelRule

# (training rows, their labels, test rows) -> probabilities of the test rows
FitPredict = Callable[[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]], npt.ArrayLike]


@dataclass
class Predictions:
    rows: npt.NDArray[np.int64]  # row indices into the dataset, in test order
    scores: npt.NDArray[np.float64]
    labels: npt.NDArray[np.int64]
    days: list[date]
    train_sizes: list[int]


def final_labels(facts: Sequence[LabelFacts], rule: LabelRule, truth_cutoff: date) -> list[int | None]:
    return rule.labels_at(facts, truth_cutoff)


def _labelled(
    facts: Sequence[LabelFacts], rule: LabelRule, cutoff: date
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
    labels = rule.labels_at(facts, cutoff)
    rows = np.array([i for i, v in enumerate(labels) if v is not None], dtype=np.int64)
    return rows, np.array([labels[i] for i in rows], dtype=np.int64)


def rolling(
    facts: Sequence[LabelFacts],
    test_days: Sequence[date],
    rule: LabelRule,
    fit_predict: FitPredict,
    *,
    truth_cutoff: date,
    progress: Callable[[date, int, int], None] | None = None,
) -> Predictions:
    """Train at each test day, predict that day's papers."""
    truth = final_labels(facts, rule, truth_cutoff)
    out_rows: list[int] = []
    out_scores: list[float] = []
    sizes: list[int] = []
    for day in sorted(set(test_days)):
        test = np.array(
            [i for i, f in enumerate(facts) if f.day == day and truth[i] is not None], dtype=np.int64
        )
        if not test.size:
            continue
        train, y = _labelled(facts, rule, day)
        if len(np.unique(y)) < 2:
            continue
        scores = np.asarray(fit_predict(train, y, test), dtype=np.float64)
        out_rows += test.tolist()
        out_scores += scores.tolist()
        sizes.append(len(train))
        if progress:
            progress(day, len(train), len(test))
    rows = np.array(out_rows, dtype=np.int64)
    return Predictions(
        rows=rows,
        scores=np.array(out_scores, dtype=np.float64),
        labels=np.array([truth[i] for i in rows], dtype=np.int64),
        days=[facts[i].day for i in rows],
        train_sizes=sizes,
    )


def holdout(
    facts: Sequence[LabelFacts],
    start: date,
    end: date,
    rule: LabelRule,
    fit_predict: FitPredict,
    *,
    truth_cutoff: date,
) -> Predictions:
    """Train once at cutoff `start`, predict every labelled paper announced from `start` to `end`."""
    truth = final_labels(facts, rule, truth_cutoff)
    test = np.array(
        [i for i, f in enumerate(facts) if start <= f.day <= end and truth[i] is not None], dtype=np.int64
    )
    train, y = _labelled(facts, rule, start)
    if not test.size or len(np.unique(y)) < 2:
        return Predictions(
            np.zeros(0, dtype=np.int64), np.zeros(0), np.zeros(0, dtype=np.int64), [], [len(train)]
        )
    scores = np.asarray(fit_predict(train, y, test), dtype=np.float64)
    return Predictions(
        rows=test,
        scores=scores,
        labels=np.array([truth[i] for i in test], dtype=np.int64),
        days=[facts[i].day for i in test],
        train_sizes=[len(train)],
    )
