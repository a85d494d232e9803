"""Trend maths: topic counts and shares over time, momentum, bursts, and per-paper trending scores.

Pure: plain numbers and dates in, plain data out; the caller passes `now` (as a day) and every tunable.

* A topic's week is a rolling 7-day window ending on the reference day, so each window holds one
  whole weekday cycle of arXiv announcements (daily volumes swing with weekdays and deadlines).
* Momentum is the z-score of this week's share of all papers against the trailing baseline weeks.
  The spread is the larger of the baseline's own spread and the binomial spread of this week's
  total, so a topic with a handful of papers cannot reach a large z by chance; below `min_count`
  papers (this week and expected) momentum is 0 and the topic is steady: small topics do not flap.
  Hysteresis (enter at `z_rise`, stay until below `z_hold`) keeps a state from flickering daily.
* Bursts: Kleinberg's two-state automaton for batched arrivals (KDD 2002, section 4), written here
  from the paper: state 1 emits at `s` times the topic's base rate; going up costs `gamma * ln n`.
* A paper's trending score for a window is a weighted sum of named parts, each in [0, 1]; the
  contributions (weight x value) are returned so the site can say why a paper is trending.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

WINDOW_DAYS: dict[str, int] = {"day": 1, "week": 7, "month": 30}

# Weights of the named parts per window. Within one day every paper is equally recent, so the
# crowd's votes and the topic's momentum carry the day; over a month recency matters more.
DEFAULT_WEIGHTS: dict[str, dict[str, float]] = {
    "day": {"recency": 0.10, "upvotes": 0.50, "topic_momentum": 0.30, "code": 0.10},
    "week": {"recency": 0.25, "upvotes": 0.40, "topic_momentum": 0.25, "code": 0.10},
    "month": {"recency": 0.30, "upvotes": 0.35, "topic_momentum": 0.25, "code": 0.10},
}

STATES = ("emerging", "bursting", "rising", "falling", "steady")


@dataclass(frozen=True)
class TrendParams:
    """Tunables of `topic_trend`; the defaults follow the reference notes (8-week baseline, z of 2)."""

    baseline_weeks: int = 8
    min_count: int = 5
    z_rise: float = 2.0
    z_hold: float = 1.0
    burst_s: float = 2.0
    burst_gamma: float = 1.0
    max_abs_momentum: float = 10.0


@dataclass(frozen=True)
class TopicTrend:
    """Where one topic stands this week."""

    count: int
    total: int
    share: float
    baseline_share: float
    baseline_sd: float
    expected: float
    z: float
    growth: float
    momentum: float
    bursting: bool
    emerging: bool
    state: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "total": self.total,
            "share": round(self.share, 6),
            "baseline_share": round(self.baseline_share, 6),
            "baseline_sd": round(self.baseline_sd, 6),
            "expected": round(self.expected, 3),
            "z": round(self.z, 3),
            "growth": round(self.growth, 4),
            "momentum": round(self.momentum, 3),
            "bursting": self.bursting,
            "emerging": self.emerging,
            "state": self.state,
        }


# Counting ---------------------------------------------------------------------------------------


def daily_totals(days: Iterable[date]) -> Counter[date]:
    """Papers per day, from one date per paper."""
    return Counter(days)


def daily_topic_counts(pairs: Iterable[tuple[int, date]]) -> dict[int, Counter[date]]:
    """Papers per topic per day, from (topic id, paper day) pairs (one pair per paper and topic)."""
    out: dict[int, Counter[date]] = {}
    for topic_id, day in pairs:
        out.setdefault(topic_id, Counter())[day] += 1
    return out


def daily_shares(counts: Mapping[date, int], totals: Mapping[date, int]) -> dict[date, float]:
    """A topic's share of each day's papers (days without papers are left out)."""
    return {day: counts[day] / totals[day] for day in counts if totals.get(day, 0) > 0}


def weekly_sums(daily: Mapping[date, int], *, end: date, weeks: int) -> list[int]:
    """Sums over `weeks` rolling 7-day windows, oldest first; the last one ends on `end` (inclusive)."""
    sums = [0] * weeks
    start = end - timedelta(days=7 * weeks - 1)
    for day, n in daily.items():
        if start <= day <= end:
            sums[weeks - 1 - (end - day).days // 7] += n
    return sums


# Momentum ---------------------------------------------------------------------------------------


def share_zscore(counts: Sequence[int], totals: Sequence[int]) -> tuple[float, float, float, float]:
    """(share, baseline share, spread, z) of the last week against the weeks before it.

    Baseline weeks without any paper are skipped. The spread is the larger of the baseline shares'
    standard deviation and the binomial one for this week's total, with the baseline share smoothed
    (add one half) so a topic absent from the baseline still gets a finite z.
    """
    if len(counts) != len(totals) or not counts:
        raise ValueError("counts and totals must be non-empty and of the same length")
    if any(c < 0 for c in counts) or any(c > n for c, n in zip(counts, totals, strict=True)):
        raise ValueError("each count must lie between 0 and its total")
    c_now, n_now = counts[-1], totals[-1]
    share = c_now / n_now if n_now else 0.0
    base = [(c, n) for c, n in zip(counts[:-1], totals[:-1], strict=True) if n > 0]
    if not base or n_now == 0:
        return share, share, 0.0, 0.0
    shares = [c / n for c, n in base]
    mean = sum(shares) / len(shares)
    empirical = (
        math.sqrt(sum((s - mean) ** 2 for s in shares) / (len(shares) - 1)) if len(shares) > 1 else 0.0
    )
    smoothed = (sum(c for c, _ in base) + 0.5) / (sum(n for _, n in base) + 1.0)
    binomial = math.sqrt(smoothed * (1.0 - smoothed) / n_now)
    sd = max(empirical, binomial, 1e-12)
    return share, mean, sd, (share - mean) / sd


def kleinberg_bursts(
    counts: Sequence[int], totals: Sequence[int], *, s: float = 2.0, gamma: float = 1.0
) -> list[int]:
    """Burst state (0 or 1) of each batch: Kleinberg's two-state automaton for batched arrivals.

    Batch t has `counts[t]` relevant items out of `totals[t]`. The base rate p0 is the overall share;
    the burst rate is s * p0. Emitting r of d at rate p costs -ln(p^r (1-p)^(d-r)) (the binomial
    coefficient is the same in both states and drops out); entering the burst state costs
    gamma * ln(n) for n batches, leaving it is free. Returns the cheapest state sequence (Viterbi).
    """
    if len(counts) != len(totals):
        raise ValueError("counts and totals must be of the same length")
    if s <= 1.0:
        raise ValueError("s must be greater than 1")
    n = len(counts)
    r_all, d_all = sum(counts), sum(totals)
    if n == 0 or r_all == 0 or d_all == 0:
        return [0] * n
    p0 = r_all / d_all
    if p0 >= 1.0:
        return [0] * n
    rates = (p0, min(s * p0, 0.9999))
    up = gamma * math.log(n) if n > 1 else gamma

    def cost(state: int, r: int, d: int) -> float:
        p = rates[state]
        return -(r * math.log(p) + (d - r) * math.log(1.0 - p))

    best = [cost(0, counts[0], totals[0]), cost(1, counts[0], totals[0]) + up]
    back: list[tuple[int, int]] = []
    for t in range(1, n):
        c0, c1 = cost(0, counts[t], totals[t]), cost(1, counts[t], totals[t])
        from0 = (best[0], 0) if best[0] <= best[1] else (best[1], 1)  # going down is free
        from1 = (best[1], 1) if best[1] <= best[0] + up else (best[0] + up, 0)
        back.append((from0[1], from1[1]))
        best = [from0[0] + c0, from1[0] + c1]
    state = 0 if best[0] <= best[1] else 1
    path = [state]
    for prev in reversed(back):
        state = prev[state]
        path.append(state)
    return path[::-1]


def topic_trend(
    counts: Sequence[int],
    totals: Sequence[int],
    *,
    params: TrendParams | None = None,
    previous_state: str | None = None,
    is_new: bool = False,
    burst_counts: Sequence[int] | None = None,
    burst_totals: Sequence[int] | None = None,
) -> TopicTrend:
    """Momentum and state of one topic from its weekly counts and the weekly totals (oldest first).

    The last week is "now"; the `params.baseline_weeks` before it are the baseline (extra older
    weeks are ignored for the z-score). Bursts are detected over `burst_counts`/`burst_totals`
    when given (a longer history), else over the same weeks. `is_new` says the topic appeared at a
    recent rebuild; a new topic with enough papers that is not falling is "emerging".
    """
    p = params or TrendParams()
    window = p.baseline_weeks + 1
    wc, wt = list(counts[-window:]), list(totals[-window:])
    share, mean, sd, z = share_zscore(wc, wt)
    count, total = wc[-1], wt[-1]
    expected = mean * total
    growth = (count + 1.0) / (expected + 1.0) - 1.0
    eligible = count >= p.min_count or expected >= p.min_count
    momentum = max(-p.max_abs_momentum, min(p.max_abs_momentum, z)) if eligible else 0.0

    bc = list(burst_counts) if burst_counts is not None else wc
    bt = list(burst_totals) if burst_totals is not None else wt
    bursting = (
        bool(bc)
        and count >= p.min_count
        and kleinberg_bursts(bc, bt, s=p.burst_s, gamma=p.burst_gamma)[-1] == 1
    )

    rising = momentum >= p.z_rise or (
        previous_state in {"rising", "bursting", "emerging"} and momentum >= p.z_hold
    )
    falling = momentum <= -p.z_rise or (previous_state == "falling" and momentum <= -p.z_hold)
    emerging = is_new and count >= p.min_count and not falling
    if emerging:
        state = "emerging"
    elif bursting:
        state = "bursting"
    elif rising and momentum > 0:
        state = "rising"
    elif falling and expected >= p.min_count:
        state = "falling"
    else:
        state = "steady"
    return TopicTrend(
        count=count,
        total=total,
        share=share,
        baseline_share=mean,
        baseline_sd=sd,
        expected=expected,
        z=z,
        growth=growth,
        momentum=momentum,
        bursting=bursting,
        emerging=emerging,
        state=state,
    )


# Paper scores -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PaperSignals:
    """What a paper's trending score is made from. `topics` holds (membership score, topic momentum)."""

    paper_id: int
    day: date
    upvotes: int | None = None
    has_code: bool = False
    topics: Sequence[tuple[float, float]] = field(default_factory=tuple)


@dataclass(frozen=True)
class PaperTrendScore:
    paper_id: int
    window: str
    score: float
    parts: dict[str, float]
    values: dict[str, float]
    detail: dict[str, Any]

    def components(self) -> dict[str, Any]:
        """What PaperScore.components stores: contributions (summing to the score), values, facts."""
        return {"parts": self.parts, "values": self.values, "detail": self.detail}


def recency_value(age_days: int, window_days: int) -> float:
    """1 on the reference day, halving every third of the window (a day window: every day)."""
    half_life = max(window_days / 3.0, 1.0)
    return 0.5 ** (max(age_days, 0) / half_life)


def upvote_value(upvotes: int | None, cap: int = 100) -> float:
    """Log-scaled Hugging Face upvotes, 1 at `cap` or more; unknown counts as none."""
    if not upvotes or upvotes <= 0:
        return 0.0
    return min(1.0, math.log1p(upvotes) / math.log1p(cap))


def momentum_value(topics: Iterable[tuple[float, float]], scale: float = 3.0) -> float:
    """The best of the paper's topics: membership score x momentum (z) scaled so `scale` gives 1."""
    best = 0.0
    for membership, momentum in topics:
        best = max(best, max(0.0, min(1.0, membership)) * max(0.0, min(1.0, momentum / scale)))
    return best


def in_window(day: date, *, ref_day: date, window: str) -> bool:
    """Whether a paper of `day` belongs to the window ending on `ref_day`."""
    return 0 <= (ref_day - day).days < WINDOW_DAYS[window]


def score_papers(
    papers: Iterable[PaperSignals],
    *,
    window: str,
    ref_day: date,
    weights: Mapping[str, float] | None = None,
    upvote_cap: int = 100,
    momentum_scale: float = 3.0,
) -> list[PaperTrendScore]:
    """Trending scores of the papers inside the window ending on `ref_day`, best first.

    Papers outside the window are left out. Ties are broken by the newer day, then the paper id, so
    the order is the same on every run.
    """
    if window not in WINDOW_DAYS:
        raise ValueError(f"unknown window {window!r}; expected one of {', '.join(WINDOW_DAYS)}")
    w = dict(weights or DEFAULT_WEIGHTS[window])
    total_weight = sum(w.values())
    if total_weight <= 0 or any(v < 0 for v in w.values()):
        raise ValueError("weights must be non-negative and not all zero")
    w = {k: v / total_weight for k, v in w.items()}
    days = WINDOW_DAYS[window]
    out: list[PaperTrendScore] = []
    for paper in papers:
        if not in_window(paper.day, ref_day=ref_day, window=window):
            continue
        age = (ref_day - paper.day).days
        values = {
            "recency": recency_value(age, days),
            "upvotes": upvote_value(paper.upvotes, upvote_cap),
            "topic_momentum": momentum_value(paper.topics, momentum_scale),
            "code": 1.0 if paper.has_code else 0.0,
        }
        parts = {name: round(w.get(name, 0.0) * value, 6) for name, value in values.items()}
        detail = {"age_days": age, "upvotes": paper.upvotes, "has_code": paper.has_code}
        out.append(
            PaperTrendScore(
                paper_id=paper.paper_id,
                window=window,
                score=round(sum(parts.values()), 6),
                parts=parts,
                values={k: round(v, 6) for k, v in values.items()},
                detail=detail,
            )
        )
    out.sort(key=lambda s: (-s.score, s.detail["age_days"], s.paper_id))
    return out
