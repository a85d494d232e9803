"""Choosing the papers of one digest: pure ranking over plain data (no session, no clock).

score = relevance + trending_weight * trending, where relevance blends
  topics (the paper's score in a chosen topic), keywords (word match in title/abstract),
  the interest vector (cosine), and feedback (cosine to liked/seed papers, minus disliked),
and trending is the paper's trending score as a percentile in the pool (recency when no
trending scores exist). Muted topics exclude a paper. Diversity: at most `topic_cap` papers
per topic while other papers are available. Every pick carries a one-line reason.

Optional sections after the main list: up to `trending_items` of the pool's top trending
papers ("trending", on unless the subscriber turns it off) and, for a subscriber who asked for
it (`include_likely`, off by default), up to `likely_items` papers not picked yet that are
relevant to them (relevance >= min_relevance) and whose early-trending probability is at least
`likely_min`, most likely first ("likely").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

Vector = npt.NDArray[np.float32]


@dataclass(frozen=True)
class Candidate:
    paper_id: int
    title: str
    text: str  # title + abstract, for keyword matching
    topics: dict[int, float]  # topic id → assignment score in [0, 1]
    trending: float | None = None  # raw trending score; None when unknown
    recency: float = 0.0  # larger is newer (e.g. an ordinal day)
    upvotes: int | None = None
    likely: float | None = None  # early-trending probability; None when not estimated
    likely_why: str = ""  # its top reason in words


@dataclass(frozen=True)
class Weights:
    topic: float = 1.0
    keyword: float = 0.9
    interest: float = 1.0
    liked: float = 0.8
    disliked: float = 0.8
    trending: float = 0.35
    min_relevance: float = 0.3
    mute_threshold: float = 0.3
    diversity_share: float = 0.4
    trending_items: int = 3
    likely_items: int = 3
    likely_min: float = 0.2


@dataclass
class Profile:
    topic_ids: frozenset[int] = frozenset()
    muted_topic_ids: frozenset[int] = frozenset()
    keywords: tuple[str, ...] = ()
    interest: Vector | None = None
    interest_label: str = ""
    liked: list[tuple[Vector, str]] = field(default_factory=list)  # (vector, title)
    disliked: list[Vector] = field(default_factory=list)
    max_papers: int = 10
    include_trending: bool = True
    include_likely: bool = False

    @property
    def has_signal(self) -> bool:
        return bool(self.topic_ids or self.keywords or self.interest is not None or self.liked)


@dataclass(frozen=True)
class Pick:
    paper_id: int
    rank: int
    score: float
    reason: str
    section: str  # for_you | trending | likely
    topic_id: int | None


class Pool:
    """The candidates of one build, with what every subscriber's ranking shares computed once."""

    def __init__(self, candidates: list[Candidate], vectors: Vector | None = None) -> None:
        self.candidates = candidates
        self.index = {c.paper_id: i for i, c in enumerate(candidates)}
        n = len(candidates)
        if vectors is not None and vectors.shape[0] != n:
            raise ValueError("one vector row per candidate is needed")
        self.vectors = vectors
        self.has_vector = (
            np.linalg.norm(vectors, axis=1) > 0 if vectors is not None and n else np.zeros(n, dtype=bool)
        )
        self.paper_ids = np.array([c.paper_id for c in candidates], dtype=np.int64)
        self.texts = [c.text.lower() for c in candidates]
        # Dense paper × topic scores over the topics present in the pool (a few dozen columns).
        self.topic_ids = sorted({t for c in candidates for t in c.topics})
        self.topic_col = {t: j for j, t in enumerate(self.topic_ids)}
        self.scores = np.zeros((n, len(self.topic_ids)), dtype=np.float64)
        for i, c in enumerate(candidates):
            for t, score in c.topics.items():
                self.scores[i, self.topic_col[t]] = score
        self.primary_topic = [
            max(c.topics, key=lambda t: (c.topics[t], -t)) if c.topics else None for c in candidates
        ]
        raw = np.array(
            [c.trending if c.trending is not None else np.nan for c in candidates], dtype=np.float64
        )
        self.has_trending = bool(n and np.isfinite(raw).any())
        basis = raw if self.has_trending else np.array([c.recency for c in candidates], dtype=np.float64)
        self.trend_pct = _percentile(np.nan_to_num(basis, nan=-np.inf))
        self.real_trending = np.isfinite(raw) & (raw > 0)
        self._keyword_cache: dict[str, npt.NDArray[np.bool_]] = {}

    def keyword_hits(self, keyword: str) -> npt.NDArray[np.bool_]:
        key = keyword.lower()
        if key not in self._keyword_cache:
            pattern = re.compile(r"(?<!\w)" + re.escape(key) + r"(?!\w)")
            self._keyword_cache[key] = np.array([bool(pattern.search(t)) for t in self.texts], dtype=bool)
        return self._keyword_cache[key]

    def columns(self, topic_ids: frozenset[int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(topic ids, column indices) of the given topics that occur in the pool."""
        present = sorted(t for t in topic_ids if t in self.topic_col)
        return np.array(present, dtype=np.int64), np.array(
            [self.topic_col[t] for t in present], dtype=np.int64
        )


def _percentile(values: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    """Rank of each value in [0, 1]; equal values share their average rank (a tie favours nobody)."""
    n = len(values)
    if n == 0:
        return np.zeros(0)
    if n == 1:
        return np.ones(1)
    _, inverse, counts = np.unique(values, return_inverse=True, return_counts=True)
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    average_rank = starts + (counts - 1) / 2
    return np.asarray(average_rank[inverse] / (n - 1), dtype=np.float64)


def _clip01(values: npt.NDArray[np.floating[Any]]) -> npt.NDArray[np.float64]:
    return np.clip(values, 0.0, 1.0).astype(np.float64)


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def select(
    profile: Profile,
    pool: Pool,
    eligible: list[int] | npt.NDArray[np.int64],
    topic_labels: dict[int, str],
    weights: Weights = Weights(),
) -> list[Pick]:
    """Rank the eligible candidates (indices into the pool) for one subscriber."""
    idx = np.asarray(eligible, dtype=np.int64)
    _, muted_cols = pool.columns(profile.muted_topic_ids)
    if muted_cols.size and idx.size:
        idx = idx[~(pool.scores[np.ix_(idx, muted_cols)] >= weights.mute_threshold).any(axis=1)]
    if idx.size == 0:
        return []
    n = idx.size
    topic = np.zeros(n)
    topic_of = np.full(n, -1, dtype=np.int64)
    chosen_ids, chosen_cols = pool.columns(profile.topic_ids)
    if chosen_cols.size:
        sub = pool.scores[np.ix_(idx, chosen_cols)]
        topic = sub.max(axis=1)
        topic_of = chosen_ids[sub.argmax(axis=1)]
    matches = np.zeros(n)
    keyword_of = np.full(n, -1, dtype=np.int64)
    for k, word in enumerate(profile.keywords):
        hits = pool.keyword_hits(word)[idx]
        matches += hits
        keyword_of = np.where(hits & (keyword_of < 0), k, keyword_of)
    keyword = np.where(matches > 0, np.minimum(1.0, 0.75 + 0.25 * matches), 0.0)
    interest = np.zeros(n)
    liked = np.zeros(n)
    liked_of = np.full(n, -1, dtype=np.int64)
    disliked = np.zeros(n)
    if pool.vectors is not None:
        # Products over the whole pool, then the eligible rows: cheaper than copying their vectors.
        has = pool.has_vector[idx]
        if profile.interest is not None:
            interest = np.where(has, _clip01(((pool.vectors @ profile.interest)[idx] - 0.25) / 0.35), 0.0)
        if profile.liked:
            sims = (pool.vectors @ np.stack([v for v, _ in profile.liked]).T)[idx]
            liked = np.where(has, _clip01((sims.max(axis=1) - 0.4) / 0.4), 0.0)
            liked_of = sims.argmax(axis=1)
        if profile.disliked:
            sims = (pool.vectors @ np.stack(profile.disliked).T)[idx]
            disliked = np.where(has, _clip01((sims.max(axis=1) - 0.5) / 0.3), 0.0)
    parts = {
        "topic": weights.topic * topic,
        "keyword": weights.keyword * keyword,
        "interest": weights.interest * interest,
        "liked": weights.liked * liked,
    }
    relevance = (
        parts["topic"] + parts["keyword"] + parts["interest"] + parts["liked"] - weights.disliked * disliked
    )
    trending = pool.trend_pct[idx]
    score = relevance + weights.trending * trending
    # No preferences yet: every candidate qualifies and the best of the day wins by trending.
    for_you = relevance >= weights.min_relevance if profile.has_signal else np.ones(n, dtype=bool)
    order = np.lexsort((pool.paper_ids[idx], -score))  # best score first, ties by paper id
    chosen = _diverse(order[for_you[order]].tolist(), pool, idx, profile.max_papers, weights.diversity_share)

    def reason(r: int) -> str:
        cand = pool.candidates[idx[r]]
        best = max(parts, key=lambda k: parts[k][r])
        if parts[best][r] > 0:
            if best == "topic":
                return f"In your topic {topic_labels.get(int(topic_of[r]), 'of interest')}"
            if best == "keyword":
                return f"Matches “{profile.keywords[int(keyword_of[r])]}”"
            if best == "interest":
                return f"Close to your interest “{_short(profile.interest_label, 50)}”"
            return f"Similar to a paper you liked: {_short(profile.liked[int(liked_of[r])][1], 60)}"
        return _trend_reason(cand, pool, int(idx[r]), topic_labels)

    picks = [
        Pick(
            int(pool.paper_ids[idx[r]]),
            rank,
            round(float(score[r]), 4),
            reason(r),
            "for_you",
            pool.primary_topic[idx[r]],
        )
        for rank, r in enumerate(chosen, start=1)
    ]
    if profile.include_trending and profile.has_signal and pool.has_trending and weights.trending_items:
        open_rows = np.ones(n, dtype=bool)
        open_rows[chosen] = False
        open_rows &= pool.real_trending[idx]
        rows = np.flatnonzero(open_rows)
        best = rows[np.lexsort((pool.paper_ids[idx[rows]], -trending[rows]))][: weights.trending_items]
        for r in best.tolist():
            cand = pool.candidates[idx[r]]
            picks.append(
                Pick(
                    cand.paper_id,
                    len(picks) + 1,
                    round(float(trending[r]), 4),
                    _trend_reason(cand, pool, int(idx[r]), topic_labels),
                    "trending",
                    pool.primary_topic[idx[r]],
                )
            )
    if profile.include_likely and profile.has_signal and weights.likely_items:
        picked = {p.paper_id for p in picks}
        odds = np.array([pool.candidates[i].likely or 0.0 for i in idx.tolist()])
        open_rows = np.flatnonzero(
            (relevance >= weights.min_relevance)
            & (odds >= weights.likely_min)
            & ~np.isin(pool.paper_ids[idx], list(picked))
        )
        best = open_rows[np.lexsort((pool.paper_ids[idx[open_rows]], -odds[open_rows]))][
            : weights.likely_items
        ]
        for r in best.tolist():
            cand = pool.candidates[idx[r]]
            picks.append(
                Pick(
                    cand.paper_id,
                    len(picks) + 1,
                    round(float(odds[r]), 4),
                    _likely_reason(cand, pool, int(idx[r]), topic_labels),
                    "likely",
                    pool.primary_topic[idx[r]],
                )
            )
    return picks


def _likely_reason(cand: Candidate, pool: Pool, i: int, topic_labels: dict[int, str]) -> str:
    topic = pool.primary_topic[i]
    label = topic_labels.get(topic) if topic is not None else None
    chance = f"{round((cand.likely or 0.0) * 100)} % chance to trend"
    where = f" in {label}" if label else ""
    return f"{chance}{where}" + (f": {cand.likely_why}" if cand.likely_why else "")


def _diverse(order: list[int], pool: Pool, idx: npt.NDArray[np.int64], limit: int, share: float) -> list[int]:
    """Greedy by score with a per-topic cap; the cap is lifted only when nothing else is left."""
    cap = max(1, math.ceil(limit * share))
    chosen: list[int] = []
    skipped: list[int] = []
    per_topic: dict[int | None, int] = {}
    for r in order:
        if len(chosen) == limit:
            break
        topic = pool.primary_topic[idx[r]]
        if topic is not None and per_topic.get(topic, 0) >= cap:
            skipped.append(r)
            continue
        per_topic[topic] = per_topic.get(topic, 0) + 1
        chosen.append(r)
    for r in skipped:
        if len(chosen) == limit:
            break
        chosen.append(r)
    return chosen


def _trend_reason(cand: Candidate, pool: Pool, i: int, topic_labels: dict[int, str]) -> str:
    topic = pool.primary_topic[i]
    label = topic_labels.get(topic) if topic is not None else None
    if pool.has_trending and pool.real_trending[i]:
        if cand.upvotes:
            return f"Trending: {cand.upvotes} upvotes" + (f" in {label}" if label else "")
        return f"Trending in {label}" if label else "Among today's most discussed papers"
    return f"New in {label}" if label else "New this period"
