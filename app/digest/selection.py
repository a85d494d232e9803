"""Choosing the papers of one digest: pure ranking over plain data (no session, no clock).

Every signal the subscriber gave is a number in [0, 1] for each candidate:
  keyword  = 1 - prod(1 - trust_k * f_k) over their keywords, f_k the BM25F match of keyword k
             (`textmatch`: stemmed, phrases, acronyms, title counted three times, saturating);
  interest = clip(trust_i * (cos(paper, direction) - low) / interest_span), direction the interest
             vector moved by feedback (`learning`: Rocchio; its cosines shifted back to the
             text's level over the pool, so the move reorders papers and lets no more through);
             low = `interest_low`, lowered for a subscriber without keywords so that a paper
             also passes where its cosine stands out from the pool's (mean + `outlier_z` std,
             at least `interest_min_cos`; pools of `outlier_pool` papers or more);
  liked    = clip((max cos(paper, marked or seed paper) - liked_low) / liked_span), times
             `liked_with_text` when the subscriber also gave keywords, a text or topics;
  topic    = 1 - prod(1 - trust_t * weight(topic) * s_t) over followed topics, s_t = 1 - (1 -
             score) * (1 - `topic_named` * f(label)) for a paper in the topic (naming the topic
             lifts a paper inside it); an area weighs `area_weight`, its subtopics count for it;
             subtopics and techniques weigh 1; times `topic_with_text` when keywords or an
             interest text say more precisely what the subscriber wants;
  author   = `author_weight` for a followed author, `common_author_weight` when the name is common
             (it matches more than `common_author_papers` candidates: likely several people);
trust_k, trust_t, trust_i (`_trust`) are 1 without marks; the subscriber's marks lower the
signals that brought papers they rejected (per keyword, per topic, for the text).
relevance = (1 - prod(1 - signal)) * (1 - penalty), where the penalty is the larger of
  clip((cos(paper, nearest "less like this" paper) - max(cos to the direction + disliked_lift,
  cos to the nearest liked paper, disliked_low)) / disliked_span)   (closer to what they
  rejected than to what they want), clip((cos - 0.9) / 0.05) (a near copy of a rejected paper),
and `negative_terms` times the weighted share of the learned negative words that the title holds
(never a word of the subscriber's own keywords or interest text). A paper with an exclusion
keyword, or in a muted topic, is removed.
Only papers with relevance >= `min_relevance` (the calibrated floor) are picked, best first:
a short digest of right papers beats a full one of weak matches. The numbers of `Weights` were
calibrated with `bench/digest_relevance.py` (precision@10 per mode in docs/BENCHMARKS.md).

Every pick says its main cause (the strongest signal) unless it only just passed the floor
(relevance < floor + `reason_margin`): then no reason is claimed.

Sections: "for_you" (the profile above), one section per named interest ("i:<id>", ranked by
that interest's own keywords and text, same floor), "trending" (papers trending in the
subscriber's own areas: the followed topics, the topics of their picks, and the areas above
them; left out when none), and "likely" (on request: relevant papers likely to trend soon).
Trending and likely never make a digest on their own: without a relevant paper there is none.
A subscriber with no preferences at all gets the day's most trending papers.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from app.digest.learning import Learned, Vector
from app.digest.textmatch import Keyword, TextIndex, compile_keywords, stems, words

__all__ = ["Candidate", "NamedInterest", "Pick", "Pool", "Profile", "Vector", "Weights", "select"]


@dataclass(frozen=True)
class Candidate:
    paper_id: int
    title: str
    text: str  # title + abstract (the abstract alone when `abstract` is given)
    topics: dict[int, float]  # topic id → assignment score in [0, 1]
    trending: float | None = None  # raw trending score; None when unknown
    recency: float = 0.0  # larger is newer (e.g. an ordinal day)
    upvotes: int | None = None
    likely: float | None = None  # early-trending probability; None when not estimated
    likely_why: str = ""  # its top reason in words
    abstract: str | None = None
    authors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Weights:
    keyword: float = 1.0
    interest_low: float = 0.35
    interest_span: float = 0.38
    interest_min_cos: float = 0.42  # the lowest cosine that passes, for papers that stand out
    outlier_z: float = 3.0
    outlier_pool: int = 50  # fewer candidates with vectors: no outlier rule (too few to measure)
    liked_low: float = 0.7
    liked_span: float = 0.2
    liked_with_text: float = 0.3
    disliked_low: float = 0.95  # only near neighbours: a broader rule cut right papers of the field
    disliked_lift: float = 0.1
    disliked_span: float = 0.15
    area_weight: float = 0.65
    topic_named: float = 0.5  # how much naming a followed topic's label lifts a paper inside it
    topic_with_text: float = 0.4  # a followed topic only corroborates when keywords or texts say more
    author_weight: float = 0.9
    common_author_weight: float = 0.3
    common_author_papers: int = 3
    negative_terms: float = 0.5
    trust_prior: float = 2.0  # marks a signal is presumed right before feedback says otherwise
    min_relevance: float = 0.5
    reason_margin: float = 0.05
    strong: float = 0.7  # picks at least this relevant are never held back by the per-topic cap
    mute_threshold: float = 0.3
    diversity_share: float = 0.4
    trending_items: int = 3
    likely_items: int = 3
    likely_min: float = 0.2


@dataclass
class NamedInterest:
    key: str  # the section key, "i:<id>"
    name: str
    keywords: tuple[str, ...] = ()
    text: str = ""
    vector: Vector | None = None


@dataclass
class Profile:
    topic_ids: frozenset[int] = frozenset()
    topic_weights: dict[int, float] = field(default_factory=dict)  # followed topic → weight (default 1)
    muted_topic_ids: frozenset[int] = frozenset()
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    interest: Vector | None = None
    interest_label: str = ""
    liked: list[tuple[Vector, str]] = field(default_factory=list)  # (vector, title)
    disliked: list[Vector] = field(default_factory=list)
    learned: Learned = field(default_factory=Learned)
    # Papers the subscriber marked: (liked, the paper, its vector); they teach how far each of the
    # subscriber's signals can be trusted (see `_trust`).
    marks: list[tuple[bool, Candidate, Vector | None]] = field(default_factory=list)
    authors: tuple[str, ...] = ()
    interests: list[NamedInterest] = field(default_factory=list)
    max_papers: int = 10
    include_trending: bool = True
    include_likely: bool = False

    @property
    def has_signal(self) -> bool:
        return bool(
            self.topic_ids
            or self.keywords
            or self.interest is not None
            or self.liked
            or self.authors
            or self.interests
        )


@dataclass(frozen=True)
class Pick:
    paper_id: int
    rank: int
    score: float
    reason: str
    section: str  # for_you | i:<id> | trending | likely
    topic_id: int | None


def author_key(name: str) -> str:
    """A name compared without case, accents' absence, dots or extra spaces ("Lovelace, A." stays as is)."""
    return " ".join(words(name))


class Pool:
    """The candidates of one build, with what every subscriber's ranking shares computed once."""

    def __init__(
        self,
        candidates: list[Candidate],
        vectors: Vector | None = None,
        parents: dict[int, int] | None = None,
    ) -> None:
        self.candidates = candidates
        self.index = {c.paper_id: i for i, c in enumerate(candidates)}
        n = len(candidates)
        if vectors is not None and vectors.shape[0] != n:
            raise ValueError("one vector row per candidate is needed")
        self.vectors = vectors
        self.parents = parents or {}
        self.has_vector = (
            np.linalg.norm(vectors, axis=1) > 0 if vectors is not None and n else np.zeros(n, dtype=bool)
        )
        self.paper_ids = np.array([c.paper_id for c in candidates], dtype=np.int64)
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
        self._text: TextIndex | None = None
        self._authors: dict[str, npt.NDArray[np.bool_]] | None = None

    @property
    def text(self) -> TextIndex:
        """Stemmed titles and abstracts, built on first use (subscribers with keywords only need it)."""
        if self._text is None:
            self._text = TextIndex(
                [c.title for c in self.candidates],
                [c.abstract if c.abstract is not None else c.text for c in self.candidates],
            )
        return self._text

    def author_hits(self, name: str) -> npt.NDArray[np.bool_]:
        if self._authors is None:
            rows: dict[str, list[int]] = {}
            for i, c in enumerate(self.candidates):
                for a in c.authors:
                    rows.setdefault(author_key(a), []).append(i)
            n = len(self.candidates)
            self._authors = {}
            for key, found in rows.items():
                mask = np.zeros(n, dtype=bool)
                mask[found] = True
                self._authors[key] = mask
        return self._authors.get(author_key(name), np.zeros(len(self.candidates), dtype=bool))

    def columns(self, topic_ids: frozenset[int]) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        """(topic ids, column indices) of the given topics that occur in the pool."""
        present = sorted(t for t in topic_ids if t in self.topic_col)
        return np.array(present, dtype=np.int64), np.array(
            [self.topic_col[t] for t in present], dtype=np.int64
        )

    def areas_of(self, topic_ids: set[int]) -> set[int]:
        """The topics and the areas above them (a subtopic's parent, followed up the chain)."""
        out = set()
        for t in topic_ids:
            seen = 0
            while t is not None and t not in out and seen < 5:
                out.add(t)
                t = self.parents.get(t)  # type: ignore[assignment]
                seen += 1
        return out


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


@dataclass
class _Signals:
    """Per eligible row: each signal, what caused it (for the reason), the relevance."""

    values: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)
    cause: dict[str, Callable[[int], str]] = field(default_factory=dict)  # row → the reason in words
    relevance: npt.NDArray[np.float64] = field(default_factory=lambda: np.zeros(0))
    keyword_parts: dict[str, npt.NDArray[np.float64]] = field(default_factory=dict)  # keyword → f
    topic_parts: dict[int, npt.NDArray[np.float64]] = field(default_factory=dict)  # topic → value


@dataclass
class _Trust:
    """Multipliers of the subscriber's own signals learned from their marks (1 without marks)."""

    keyword: dict[str, float] = field(default_factory=dict)
    topic: dict[int, float] = field(default_factory=dict)
    interest: float = 1.0


def _keywords(
    pool: Pool, idx: npt.NDArray[np.int64], keywords: list[Keyword], s: _Signals, trust: _Trust
) -> None:
    if not keywords:
        return
    miss = np.ones(idx.size)
    best = np.zeros(idx.size)
    cause: dict[int, str] = {}
    for k in keywords:
        f, in_title = pool.text.match(k)
        f, in_title = f[idx], in_title[idx]
        s.keyword_parts[k.text] = f
        f = np.clip(f * trust.keyword.get(k.text, 1.0), 0.0, 1.0)
        miss *= 1 - f
        for r in np.flatnonzero(f > best).tolist():
            where = "in the title" if in_title[r] else "in the abstract"
            cause[r] = f"Matches your keyword “{_short(k.text, 40)}” {where}"
        best = np.maximum(best, f)
    s.values["keyword"] = 1 - miss
    s.cause["keyword"] = lambda r: cause.get(r, "")


def _vector_signals(
    profile: Profile, pool: Pool, idx: npt.NDArray[np.int64], w: Weights, s: _Signals, trust: _Trust
) -> npt.NDArray[np.float64]:
    """Interest and liked signals; returns the "less like this" penalty."""
    penalty = np.zeros(idx.size)
    if pool.vectors is None:
        return penalty
    has = pool.has_vector[idx]
    direction = profile.learned.direction if profile.learned.direction is not None else profile.interest
    # One product of the pool with every vector the profile holds (one BLAS call, not several).
    columns = (
        ([direction] if direction is not None else []) + [v for v, _ in profile.liked] + profile.disliked
    )
    if not columns:
        return penalty
    sims = (pool.vectors @ np.stack(columns).T)[idx]
    first_liked = 1 if direction is not None else 0
    first_disliked = first_liked + len(profile.liked)
    to_direction = sims[:, 0] if direction is not None else None
    if profile.interest is not None and to_direction is not None and direction is not profile.interest:
        # The floor was calibrated on the cosines of an interest text; a direction moved towards
        # marked papers sits closer to every paper of their field (paper-to-paper cosines run
        # higher), so its cosines are shifted back to the text's level over this pool: the move
        # reorders papers, it does not let more of them through.
        to_interest = (pool.vectors[idx] @ profile.interest).astype(np.float64)
        if has.any():
            to_direction = to_direction - float(to_direction[has].mean() - to_interest[has].mean())
    if profile.interest is not None and to_direction is not None:
        low = w.interest_low
        if not profile.keywords and int(has.sum()) >= w.outlier_pool:
            # Calibrated per interest and pool: a paper also passes (signal 0.5) where its cosine
            # stands out from the pool's, `outlier_z` deviations above the mean, if at least
            # `interest_min_cos`. A narrow interest's sentence sits far from every paper, so the
            # absolute mark alone leaves its digest empty while its right papers still stand out.
            # With keywords the words say more precisely what is wanted: the absolute mark only.
            cos = to_direction[has]
            outlier = float(cos.mean() + w.outlier_z * cos.std())
            passing = w.interest_low + w.interest_span / 2
            low -= passing - min(passing, max(w.interest_min_cos, outlier))
        s.values["interest"] = np.where(
            has, _clip01(trust.interest * (to_direction - low) / w.interest_span), 0.0
        )
        said = f"Close to your interest “{_short(profile.interest_label, 50)}”"
        s.cause["interest"] = lambda r: said
    to_liked = sims[:, first_liked:first_disliked].max(axis=1) if profile.liked else None
    if to_liked is not None:
        liked = np.where(has, _clip01((to_liked - w.liked_low) / w.liked_span), 0.0)
        if profile.keywords or profile.interest is not None or profile.topic_ids:
            # Next to what the subscriber said, a marked paper's neighbours corroborate: alone they
            # pass the floor only as near copies (a neighbour by vector is often another subject).
            liked = liked * w.liked_with_text
        s.values["liked"] = liked
        nearest_liked = sims[:, first_liked:first_disliked].argmax(axis=1)
        s.cause["liked"] = lambda r: (
            f"Like a paper you marked: {_short(profile.liked[int(nearest_liked[r])][1], 60)}"
        )
    if profile.disliked:
        nearest = sims[:, first_disliked:].max(axis=1)
        # How much closer the paper is to what they rejected than to what they want (the interest
        # direction, the nearest liked paper): a linear rule in the vector space, like Rocchio's.
        wanted = np.full(idx.size, w.disliked_low)
        if to_direction is not None:
            # Paper-to-paper cosines run higher than the interest's: the direction's is lifted to
            # their scale before the comparison.
            wanted = np.maximum(wanted, to_direction + w.disliked_lift)
        if to_liked is not None:
            wanted = np.maximum(wanted, to_liked)
        # A near copy of a rejected paper goes whatever else it matches.
        copy = _clip01((nearest - 0.9) / 0.05)
        penalty = np.where(has, np.maximum(_clip01((nearest - wanted) / w.disliked_span), copy), 0.0)
    return penalty


def _signals(
    profile: Profile,
    pool: Pool,
    idx: npt.NDArray[np.int64],
    labels: dict[int, str],
    w: Weights,
    trust: _Trust | None = None,
) -> _Signals:
    trust = trust or _Trust()
    s = _Signals()
    n = idx.size
    chosen_ids, chosen_cols = pool.columns(profile.topic_ids)
    if chosen_cols.size:
        weight = np.array([profile.topic_weights.get(int(t), 1.0) for t in chosen_ids])
        if profile.keywords or profile.interest is not None:
            weight = weight * w.topic_with_text
        score = pool.scores[np.ix_(idx, chosen_cols)]
        if w.topic_named:
            # A paper that names the topic it sits in (its label in the title or abstract) is at its
            # centre: following "Machine Translation" means papers about machine translation first.
            named = np.zeros_like(score)
            for j, t in enumerate(chosen_ids.tolist()):
                label = compile_keywords([labels[t]]) if t in labels else []
                if label:
                    named[:, j] = pool.text.match(label[0])[0][idx]
            score = np.where(score > 0, 1 - (1 - score) * (1 - w.topic_named * named), 0.0)
        for j, t in enumerate(chosen_ids.tolist()):
            s.topic_parts[t] = score[:, j] * weight[j]
        weight = weight * np.array([trust.topic.get(int(t), 1.0) for t in chosen_ids])
        sub = score * weight
        s.values["topic"] = 1 - np.prod(1 - np.clip(sub, 0.0, 1.0), axis=1)  # in two followed topics: more
        strongest = sub.argmax(axis=1)
        s.cause["topic"] = lambda r: (
            f"In your topic {labels.get(int(chosen_ids[strongest[r]]), 'of interest')}"
        )
    _keywords(pool, idx, compile_keywords(profile.keywords, profile.interest_label), s, trust)
    penalty = _vector_signals(profile, pool, idx, w, s, trust)
    if profile.authors:
        author = np.zeros(n)
        by: dict[int, str] = {}
        for name in profile.authors:
            hits = pool.author_hits(name)
            common = int(hits.sum()) > w.common_author_papers
            value = w.common_author_weight if common else w.author_weight
            for r in np.flatnonzero(hits[idx] & (author < value)).tolist():
                author[r] = value
                by[r] = f"By {name}, an author you follow"
        s.values["author"] = author
        s.cause["author"] = lambda r: by.get(r, "")
    disliked_terms = {t: -v for t, v in profile.learned.terms.items() if v < 0}
    if disliked_terms:
        wanted = set(stems(" ".join(profile.keywords) + " " + profile.interest_label))
        # What the subscriber asked for in words is never unlearned by a mark.
        disliked_terms = {t: v for t, v in disliked_terms.items() if t not in wanted}
    if disliked_terms:
        total = sum(disliked_terms.values())
        titles = [pool.text.title_sets[i] for i in idx.tolist()]
        negative = np.array([sum(v for t, v in disliked_terms.items() if t in ti) / total for ti in titles])
        penalty = np.maximum(penalty, w.negative_terms * negative)
    miss = np.ones(n)
    for values in s.values.values():
        miss *= 1 - np.clip(values, 0.0, 1.0)
    s.relevance = (1 - miss) * (1 - penalty)
    return s


def _trust(profile: Profile, labels: dict[int, str], w: Weights) -> _Trust:
    """How far each of the subscriber's signals is borne out by their marks: a per-subscriber weight
    learned like a Beta posterior. A signal's value on the liked papers (L) and on the disliked ones
    (D) give it the factor (prior + L) / (prior + D); every factor is then divided by the largest,
    so the signal their marks bear out best keeps its full weight and the others count for less:
    a keyword that brought three papers they rejected counts about 2 / 5 as much as one that did
    not, and a signal that brought the papers they liked rises against the others. Marks weigh the
    signals against each other; they never silence the subscriber. Per keyword, per followed topic
    and for the interest text."""
    if not profile.marks:
        return _Trust()
    marked = [c for _, c, _ in profile.marks]
    vectors = [v for _, _, v in profile.marks]
    dim = next((len(v) for v in vectors if v is not None), 0)
    matrix = (
        np.stack([v if v is not None else np.zeros(dim, dtype=np.float32) for v in vectors]) if dim else None
    )
    own = Profile(
        topic_ids=profile.topic_ids,
        topic_weights=profile.topic_weights,
        keywords=profile.keywords,
        interest=profile.interest,
        interest_label=profile.interest_label,
    )
    s = _signals(own, Pool(marked, matrix), np.arange(len(marked)), labels, w)
    liked = np.array([like for like, _, _ in profile.marks], dtype=bool)

    def factor(values: npt.NDArray[np.float64]) -> float:
        gained, lost = float(values[liked].sum()), float(values[~liked].sum())
        return (w.trust_prior + gained) / (w.trust_prior + lost)

    trust = _Trust(
        keyword={k: factor(v) for k, v in s.keyword_parts.items()},
        topic={t: factor(v) for t, v in s.topic_parts.items()},
        interest=factor(s.values["interest"]) if "interest" in s.values else 1.0,
    )
    said = [*trust.keyword.values(), *trust.topic.values()]
    top = max([*said, trust.interest] if "interest" in s.values else said, default=1.0)
    if top > 0:
        trust.keyword = {k: v / top for k, v in trust.keyword.items()}
        trust.topic = {t: v / top for t, v in trust.topic.items()}
        trust.interest /= top
    return trust


def _reason(s: _Signals, r: int, floor: float, margin: float) -> str:
    """The main cause of a pick, or nothing when it only just passed the floor."""
    if not s.values or s.relevance[r] < floor + margin:
        return ""
    best = max(s.values, key=lambda k: s.values[k][r])
    return s.cause[best](r) if s.values[best][r] > 0 else ""


def select(
    profile: Profile,
    pool: Pool,
    eligible: list[int] | npt.NDArray[np.int64],
    topic_labels: dict[int, str],
    weights: Weights = Weights(),
) -> list[Pick]:
    """Rank the eligible candidates (indices into the pool) for one subscriber."""
    w = weights
    idx = np.asarray(eligible, dtype=np.int64)
    _, muted_cols = pool.columns(profile.muted_topic_ids)
    if muted_cols.size and idx.size:
        idx = idx[~(pool.scores[np.ix_(idx, muted_cols)] >= w.mute_threshold).any(axis=1)]
    exclude = compile_keywords(profile.exclude)
    if exclude and idx.size:
        idx = idx[~pool.text.any_match(exclude)[idx]]
    if idx.size == 0:
        return []
    trending = pool.trend_pct[idx]
    picks: list[Pick] = []
    taken = np.zeros(idx.size, dtype=bool)

    def add(rows: list[int], section: str, score: npt.NDArray[np.float64], reasons: list[str]) -> None:
        for r, reason in zip(rows, reasons, strict=True):
            taken[r] = True
            picks.append(
                Pick(
                    int(pool.paper_ids[idx[r]]),
                    len(picks) + 1,
                    round(float(score[r]), 4),
                    reason,
                    section,
                    pool.primary_topic[idx[r]],
                )
            )

    if not profile.has_signal:
        # No preferences yet: the best of the day by trending, each saying why.
        order = np.lexsort((pool.paper_ids[idx], -trending)).tolist()
        chosen = _diverse(
            order, pool, idx, profile.max_papers, w.diversity_share, np.zeros(idx.size), w.strong
        )
        add(chosen, "for_you", trending, [_trend_reason(pool, int(idx[r]), topic_labels) for r in chosen])
        return picks
    signals = _signals(profile, pool, idx, topic_labels, w, _trust(profile, topic_labels, w))
    relevance = signals.relevance
    if (
        profile.topic_ids
        or profile.keywords
        or profile.interest is not None
        or profile.liked
        or profile.authors
    ):
        order = np.lexsort((pool.paper_ids[idx], -relevance))
        passing = [r for r in order.tolist() if relevance[r] >= w.min_relevance]
        chosen = _diverse(passing, pool, idx, profile.max_papers, w.diversity_share, relevance, w.strong)
        add(
            chosen,
            "for_you",
            relevance,
            [_reason(signals, r, w.min_relevance, w.reason_margin) for r in chosen],
        )
    for named in profile.interests:
        sub = Profile(
            keywords=named.keywords,
            interest=named.vector,
            interest_label=named.name,
            disliked=profile.disliked,
            learned=Learned(terms={t: v for t, v in profile.learned.terms.items() if v < 0}),
        )
        s = _signals(sub, pool, idx, topic_labels, w)
        order = np.lexsort((pool.paper_ids[idx], -s.relevance))
        rows = [r for r in order.tolist() if s.relevance[r] >= w.min_relevance and not taken[r]]
        rows = rows[: profile.max_papers]
        add(rows, named.key, s.relevance, [_reason(s, r, w.min_relevance, w.reason_margin) for r in rows])
    if not picks:
        return []  # never filler: trending or likely papers alone do not make a digest
    if profile.include_trending and pool.has_trending and w.trending_items:
        followed = set(profile.topic_ids) | {t for p in picks if (t := p.topic_id) is not None}
        areas = pool.areas_of(followed)
        # A paper is in the subscriber's areas when it sits (score >= mute_threshold) in one of
        # them or in a subtopic under one.
        inside = frozenset(t for t in pool.topic_ids if t in areas or pool.parents.get(t) in areas)
        _, area_cols = pool.columns(inside)
        in_areas = (
            (pool.scores[np.ix_(idx, area_cols)] >= w.mute_threshold).any(axis=1)
            if area_cols.size
            else np.zeros(idx.size, dtype=bool)
        )
        open_rows = np.flatnonzero(~taken & pool.real_trending[idx] & in_areas)
        best = open_rows[np.lexsort((pool.paper_ids[idx[open_rows]], -trending[open_rows]))][
            : w.trending_items
        ]
        add(
            best.tolist(),
            "trending",
            trending,
            [_trend_reason(pool, int(idx[r]), topic_labels) for r in best.tolist()],
        )
    if profile.include_likely and w.likely_items:
        odds = np.array([pool.candidates[i].likely or 0.0 for i in idx.tolist()])
        open_rows = np.flatnonzero((relevance >= w.min_relevance) & (odds >= w.likely_min) & ~taken)
        best = open_rows[np.lexsort((pool.paper_ids[idx[open_rows]], -odds[open_rows]))][: w.likely_items]
        add(
            best.tolist(),
            "likely",
            odds,
            [_likely_reason(pool, int(idx[r]), topic_labels) for r in best.tolist()],
        )
    return picks


def _likely_reason(pool: Pool, i: int, topic_labels: dict[int, str]) -> str:
    cand = pool.candidates[i]
    topic = pool.primary_topic[i]
    label = topic_labels.get(topic) if topic is not None else None
    chance = f"{round((cand.likely or 0.0) * 100)} % chance to trend"
    where = f" in {label}" if label else ""
    return f"{chance}{where}" + (f": {cand.likely_why}" if cand.likely_why else "")


def _diverse(
    order: list[int],
    pool: Pool,
    idx: npt.NDArray[np.int64],
    limit: int,
    share: float,
    relevance: npt.NDArray[np.float64],
    strong: float,
) -> list[int]:
    """Greedy by score with a per-topic cap on the weaker picks; the cap is lifted only when nothing
    else is left. Strong picks are never held back: a narrow interest that sits in one topic keeps
    all of its right papers."""
    cap = max(1, math.ceil(limit * share))
    chosen: list[int] = []
    skipped: list[int] = []
    per_topic: dict[int | None, int] = {}
    for r in order:
        if len(chosen) == limit:
            break
        topic = pool.primary_topic[idx[r]]
        if topic is not None and per_topic.get(topic, 0) >= cap and relevance[r] < strong:
            skipped.append(r)
            continue
        per_topic[topic] = per_topic.get(topic, 0) + 1
        chosen.append(r)
    for r in skipped:
        if len(chosen) == limit:
            break
        chosen.append(r)
    return chosen


def _trend_reason(pool: Pool, i: int, topic_labels: dict[int, str]) -> str:
    cand = pool.candidates[i]
    topic = pool.primary_topic[i]
    label = topic_labels.get(topic) if topic is not None else None
    if pool.has_trending and pool.real_trending[i]:
        if cand.upvotes:
            return f"Trending: {cand.upvotes} upvotes" + (f" in {label}" if label else "")
        return f"Trending in {label}" if label else "Among today's most discussed papers"
    return f"New in {label}" if label else "New this period"
