"""Moving title phrases: the names in titles whose share of papers rose or fell, topic or not.

A topic model sees a shift only when a topic names it, and a topic is often broader than the phrase
that moved ("Agent Skills" inside "LLM Agents"), or the phrase is younger than the last rebuild. This
module tests the phrases themselves, with the topics' own test (`app.topics.trending.topic_trend`:
the same horizons, minimum counts, likelihood-ratio test and hysteresis), on the papers whose title
writes each phrase. Pure: titles, days and a reference day in, a list out.

Rules:

* Candidates: phrases of 1-3 words mined from the titles (`build_corpus`), written as a whole phrase
  in at least MIN_COMPLETE of their uses (not a fragment of a longer name), that pass the naming rules
  of topic labels (`label_ok`: "Agent Skills", "Sycophancy", not "Help" or "Hidden").
* A quick screen on the month and quarter windows drops a phrase that cannot reach a state: fewer
  than the horizon's minimum papers now and expected, or a smoothed ratio inside the hysteresis band
  on both horizons. The full test runs on the rest.
* Reported states: rising, emerging, falling (a burst is a week's spike of a phrase: left to topics).
* A phrase that moves with a longer one (the longer holds at least NESTED_SHARE of its papers in the
  current quarter, and moves the same way) is that phrase: only the longer is listed ("Graph Neural
  Networks", not "Graph Neural").
* Order: emerging, rising, falling; the strongest move (|momentum|) first.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import scipy.sparse as sp

from app.topics.labeling import label_ok, pretty
from app.topics.phrases import build_corpus
from app.topics.trending import TopicTrend, TrendParams, topic_trend

MIN_COMPLETE = 0.3
NESTED_SHARE = 0.8
MOVING = ("emerging", "rising", "falling")
_ORDER = {state: i for i, state in enumerate(MOVING)}


@dataclass(frozen=True)
class PhraseTrend:
    """One moving phrase: its key (stems), the label as titles write it, and its trend."""

    key: str
    label: str
    trend: TopicTrend

    def as_dict(self) -> dict[str, Any]:
        data = self.trend.as_dict()
        return {
            "label": self.label,
            "key": self.key,
            "state": data["state"],
            "momentum": data["momentum"],
            "explanation": data["explanation"],
            "deciding": data["deciding"],
            "horizons": data["horizons"],
        }


def _weekly(days: Sequence[date], end: date, weeks: int) -> tuple[np.ndarray, np.ndarray]:
    """(week of each paper, oldest = 0, -1 outside the `weeks` weeks ending on `end`), papers a week."""
    back = np.asarray([(end - d).days for d in days], dtype=np.int64)
    inside = (back >= 0) & (back < 7 * weeks)
    week = np.where(inside, weeks - 1 - back // 7, -1)
    totals = np.bincount(week[inside], minlength=weeks)
    return week, totals


def _screen(counts: np.ndarray, totals: np.ndarray, params: TrendParams) -> np.ndarray:
    """Phrases (columns of weekly `counts`) that some month or quarter test could call moving."""
    keep = np.zeros(counts.shape[1], dtype=bool)
    for h in params.horizons[1:]:
        now = slice(counts.shape[0] - h.weeks, None)
        before = slice(counts.shape[0] - h.span, counts.shape[0] - h.weeks)
        c, c0 = counts[now].sum(axis=0), counts[before].sum(axis=0)
        n, n0 = float(totals[now].sum()), float(totals[before].sum())
        if n <= 0 or n0 <= 0:
            continue
        expected = c0 / n0 * n
        ratio = ((c + 0.5) / n) / ((c0 + 0.5) / n0)
        band = 1.0 + (h.min_ratio - 1.0) / 2  # the hysteresis band's edge: the loosest bar of the test
        keep |= ((c >= h.min_count) & (ratio >= band)) | ((expected >= h.min_count) & (ratio <= 1.0 / band))
    return keep


def phrase_trends(
    titles: Sequence[str], days: Sequence[date], *, end: date, params: TrendParams | None = None
) -> list[PhraseTrend]:
    """The title phrases moving on `end` (see the module doc), from papers announced up to `end`.

    Raises ValueError when `titles` and `days` differ in length.
    """
    if len(titles) != len(days):
        raise ValueError(f"{len(titles)} titles but {len(days)} days")
    p = params or TrendParams()
    weeks = p.history_weeks
    week, totals = _weekly(days, end, weeks)
    rows = np.flatnonzero(week >= 0)
    if not len(rows):
        return []
    corpus = build_corpus([titles[i] for i in rows.tolist()], [""] * len(rows))
    if not corpus.keys:
        return []
    pairs = zip(corpus.complete, corpus.phrases, strict=True)
    named = np.asarray([c >= MIN_COMPLETE and label_ok(pretty(ph)) for c, ph in pairs], dtype=bool)
    cols = np.flatnonzero(named)
    if not len(cols):
        return []
    present = (corpus.title[:, cols] > 0).astype(np.int32)
    by_week = sp.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (week[rows], np.arange(len(rows)))), shape=(weeks, len(rows))
    )
    counts = np.asarray((by_week @ present).todense())
    screened = _screen(counts, totals, p)
    cols, counts = cols[screened], counts[:, screened]
    moving: list[tuple[int, PhraseTrend]] = []
    for j, col in enumerate(cols.tolist()):
        trend = topic_trend(counts[:, j].tolist(), totals.tolist(), end=end, params=p)
        if trend.state in _ORDER:
            moving.append((col, PhraseTrend(corpus.keys[col], pretty(corpus.phrases[col]), trend)))
    return _without_nested(moving, corpus.title.tocsc(), week[rows], weeks - p.horizons[2].weeks)


def _without_nested(
    moving: list[tuple[int, PhraseTrend]], title: sp.csc_matrix, week: np.ndarray, since: int
) -> list[PhraseTrend]:
    """Drops a phrase that a longer moving phrase holds (NESTED_SHARE of its papers of the current
    quarter, same direction); the rest in listing order."""
    recent = week >= since

    def papers(col: int) -> np.ndarray:
        rows = title.indices[title.indptr[col] : title.indptr[col + 1]]
        return rows[recent[rows]]

    kept = []
    for col, item in moving:
        stems = set(item.key.split())
        mine = papers(col)
        up = item.trend.state != "falling"
        held = any(
            other is not item
            and stems < set(other.key.split())
            and (other.trend.state != "falling") == up
            and len(mine)
            and np.isin(mine, papers(ocol), assume_unique=True).mean() >= NESTED_SHARE
            for ocol, other in moving
        )
        if not held:
            kept.append(item)
    return sorted(kept, key=lambda t: (_ORDER[t.trend.state], -abs(t.trend.momentum), t.label.casefold()))
