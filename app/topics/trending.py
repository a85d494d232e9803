"""Trend maths: topic shares over several horizons, their states, bursts, and per-paper trending scores.

Pure: plain numbers and dates in, plain data out; the caller passes the reference day and every tunable.

Counting. A topic's papers and all papers are summed over whole weeks (7-day windows) ending on the
reference day. arXiv announces on weekdays and its volume swings with the weekday and with conference
deadlines, so every window is a whole number of weeks (it holds each weekday equally often) and the
test compares *shares* (topic papers / all papers), never raw counts: a week in which everybody
published twice as much is no trend. Weeks before the data began (no paper at all) are no evidence.

Horizons. Each compares a current window with the windows just before it (the baseline):

    horizon   current window     baseline                          minimum papers        minimum ratio
    week      the last 7 days    the 8 weeks before                 5 (TREND_MIN_COUNT)           1.5
    month     the last 4 weeks   the 12 weeks (3 months) before    10 (TREND_MIN_COUNT_MONTH)     1.3
    quarter   the last 13 weeks  the 26 weeks (2 quarters) before  20 (TREND_MIN_COUNT_QUARTER)   1.33

The minimum ratio is the smallest change worth telling a reader about. For the quarter it is the
ratio a share growing in a straight line reaches when it grows by a fifth from one quarter to the
next (the current window's middle lies 6.5 weeks back, the baseline's 26: (1 - 6.5x) / (1 - 26x)
= 4/3 where (1 - 6.5x) / (1 - 19.5x) = 1.2); the shorter horizons are noisier and need more.

For one horizon, with c of n papers now and c0 of n0 in the baseline:

    share p = c / n,   baseline share p0 = c0 / n0,   ratio r = p / p0 (shown),
    smoothed ratio r' = ((c + 0.5) / n) / ((c0 + 0.5) / n0) (decides, finite for a topic new to the data),
    expected e = p0 * n (papers the window would hold at the old share),
    dispersion phi = max(1, Pearson chi2 / (k - 1)) of the baseline's k weekly counts against p0: how much
        more the share swings from week to week (deadlines, the weekday mix, crawl changes) than
        binomial sampling alone would make it,
    z = sign(p - p0) * sqrt(G / phi), G the likelihood-ratio statistic of the two windows' counts
        (2 * sum of observed * ln(observed / expected) over topic and other papers, now and before,
        expected at the pooled share (c + c0) / (n + n0)). For large counts this is the pooled
        two-proportion z; for the few papers of a small topic it follows the binomial's skewed
        tail, which the normal approximation gets wrong both ways (it over-calls 2 -> 6 papers and
        under-calls a fall to none).

* rising: c >= minimum papers, z >= Z_RISE (2) and r' >= the horizon's minimum ratio;
* falling: e >= minimum papers, z <= -Z_RISE and r' <= 1 / minimum ratio;
* hysteresis: the same horizon evaluated a week earlier, from the data up to that day only, that was
  rising (falling) stays so while z >= Z_HOLD (1) and r' >= 1 + (minimum ratio - 1) / 2 (mirrored for
  falling), so a topic does not flicker on and off around the threshold;
* steady otherwise; no state (None) when neither c nor e reaches the minimum ("too few papers") or
  when the baseline holds fewer weeks with papers than the current window ("too little history").

Overall state: the longest horizon that speaks decides; first that applies:

1. emerging, a new topic growing fast: the quarter horizon has its history, the topic had fewer than
   the quarter's minimum papers in the two quarters before, has at least that many now (or a month
   rising, when it has not yet), the quarter's r' >= 2, and the topic is rising by rule 2;
2. rising: the quarter is rising and the month is not falling, or the month is rising and the
   quarter leans the same way (rising, or inside its hysteresis band: z >= Z_HOLD and r' >= the
   band's ratio), so a rise over the last 4 weeks counts once the longer view starts to follow;
   or the month is rising and the quarter cannot speak (too little history, or too few papers for
   its minimum: the month is then the longest view);
3. falling: the same, mirrored;
4. bursting, a sudden spike the longer views did not already show: the week horizon is rising and
   Kleinberg's burst automaton (KDD 2002, section 4, written here from the paper; weekly batches
   since the data began, at most 26 weeks) puts the last week in its burst state; not while the
   topic is falling. This rule comes before rule 2 when the month and quarter rise only with this
   week's papers (neither was rising a week earlier): the spike is then all there is. A topic whose
   month or quarter was rising already is rising (rule 2), and its explanation adds the burst;
5. steady (also when month and quarter disagree: the explanation says both).

A week that moves alone makes no overall state except a burst, and a month that moves alone none
while the quarter speaks and sees no change: a few weeks are too short to call a direction (a
conference deadline moves a month's mix).
Momentum (what lists sort by and what paper scores use) is the z of the horizon that decided the
state (emerging: the quarter or the month, as for rising), else the week's z, capped at +-10 and 0
below the week's minimum count. Every state comes with its explanation in words and numbers
("9.9 % of papers in the 13 weeks to 31 Oct 2025 against 3.4 % in the 26 weeks before, 2.9x").

A paper's trending score for a window is a weighted sum of named parts, each in [0, 1]; the
contributions (weight x value) are returned so the site can say why a paper is trending.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
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
UP_STATES = frozenset({"emerging", "bursting", "rising"})
HORIZON_STATES = ("rising", "falling", "steady")
BURST_HISTORY_WEEKS = 26


@dataclass(frozen=True)
class Horizon:
    """One comparison: the last `weeks` weeks against the `baseline` windows of that length before."""

    name: str
    weeks: int
    baseline: int
    min_count: int
    min_ratio: float

    @property
    def baseline_weeks(self) -> int:
        return self.weeks * self.baseline

    @property
    def span(self) -> int:
        """Weeks of data the horizon reads (current window and baseline)."""
        return self.weeks * (1 + self.baseline)


@dataclass(frozen=True)
class TrendParams:
    """Tunables of `topic_trend` (see the module docstring); the settings name the minimum counts."""

    baseline_weeks: int = 8
    min_count: int = 5
    min_count_month: int = 10
    min_count_quarter: int = 20
    min_ratio_week: float = 1.5
    min_ratio_month: float = 1.3
    min_ratio_quarter: float = 1.33
    z_rise: float = 2.0
    z_hold: float = 1.0
    emerging_ratio: float = 2.0
    burst_s: float = 2.0
    burst_gamma: float = 1.0
    max_abs_momentum: float = 10.0

    @property
    def horizons(self) -> tuple[Horizon, Horizon, Horizon]:
        return (
            Horizon("week", 1, self.baseline_weeks, self.min_count, self.min_ratio_week),
            Horizon("month", 4, 3, self.min_count_month, self.min_ratio_month),
            Horizon("quarter", 13, 2, self.min_count_quarter, self.min_ratio_quarter),
        )

    @property
    def history_weeks(self) -> int:
        """Weekly sums `topic_trend` needs: the longest horizon, one week more for the hysteresis."""
        return max(max(h.span for h in self.horizons), BURST_HISTORY_WEEKS) + 1


@dataclass(frozen=True)
class HorizonTrend:
    """One horizon of one topic: the two windows, their counts and shares, the test and its state."""

    name: str
    state: str | None  # rising | falling | steady | None (too few papers, too little history)
    count: int
    total: int
    baseline_count: int
    baseline_total: int
    start: date
    end: date
    baseline_start: date
    baseline_end: date
    z: float
    dispersion: float
    min_count: int
    min_ratio: float
    note: str = ""

    @property
    def share(self) -> float:
        return self.count / self.total if self.total else 0.0

    @property
    def baseline_share(self) -> float:
        return self.baseline_count / self.baseline_total if self.baseline_total else 0.0

    @property
    def expected(self) -> float:
        return self.baseline_share * self.total

    @property
    def ratio(self) -> float | None:
        """Share now over the baseline share (None when the topic had no paper in the baseline)."""
        return self.share / self.baseline_share if self.baseline_share > 0 else None

    @property
    def smoothed_ratio(self) -> float:
        if not self.total or not self.baseline_total:
            return 1.0
        return ((self.count + 0.5) / self.total) / ((self.baseline_count + 0.5) / self.baseline_total)

    @property
    def hold_ratio(self) -> float:
        """Half-way between no change and the minimum ratio: where hysteresis lets go."""
        return 1.0 + (self.min_ratio - 1.0) / 2.0

    @property
    def enough(self) -> bool:
        return self.count >= self.min_count or self.expected >= self.min_count

    def text(self, counts: bool = True) -> str:
        """The comparison in words: "9.9 % of papers in the 13 weeks to 31 Oct 2025 against ...";
        with `counts`, the papers behind each share in brackets."""
        window = window_words(self.start, self.end)
        if not self.total:
            return f"no papers at all in {window}"
        now = f"{pct(self.share)} of papers in {window}" + (f" ({self.count:,} of {self.total:,})" * counts)
        if self.note == "history":
            return f"{now}; too little history before it to compare"
        weeks = weeks_words(((self.baseline_end - self.baseline_start).days + 1) // 7)
        if self.baseline_count == 0:
            before = f"none in {weeks} before" + (f" (of {self.baseline_total:,})" * counts)
        else:
            before = f"{pct(self.baseline_share)} in {weeks} before"
            before += f" ({self.baseline_count:,} of {self.baseline_total:,})" * counts
        if self.note == "few":
            return f"{now} against {before}: too few papers to tell (at least {self.min_count} needed)"
        return f"{now} against {before}" + ("" if self.ratio is None else f", {times(self.ratio)}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "state": self.state,
            "count": self.count,
            "total": self.total,
            "share": round(self.share, 6),
            "baseline_count": self.baseline_count,
            "baseline_total": self.baseline_total,
            "baseline_share": round(self.baseline_share, 6),
            "expected": round(self.expected, 3),
            "ratio": None if self.ratio is None else round(self.ratio, 4),
            "z": round(self.z, 3),
            "dispersion": round(self.dispersion, 3),
            "min_count": self.min_count,
            "min_ratio": self.min_ratio,
            "window": [self.start.isoformat(), self.end.isoformat()],
            "baseline_window": [self.baseline_start.isoformat(), self.baseline_end.isoformat()],
            "note": self.note,
            "text": self.text(),
            "words": self.words(),
        }

    def words(self) -> dict[str, str]:
        """The figures as a page shows them: "9.9 %", "2.9×", "the 13 weeks to 31 Oct 2025"."""
        weeks = ((self.baseline_end - self.baseline_start).days + 1) // 7
        state = {"few": "too few papers", "history": "too little history", "empty": "no papers"}
        return {
            "share": pct(self.share),
            "baseline_share": pct(self.baseline_share),
            "ratio": times(self.ratio) if self.baseline_count else "new",
            "window": window_words(self.start, self.end),
            "baseline_window": f"{weeks_words(weeks)} before",
            "state": self.state or state.get(self.note, "no state"),
        }


@dataclass(frozen=True)
class TopicTrend:
    """Where one topic stands on the reference day: every horizon, the overall state and why."""

    state: str
    momentum: float
    horizons: tuple[HorizonTrend, ...]
    deciding: str | None  # the horizon that set the state (None: steady)
    bursting: bool
    young: bool
    explanation: str

    @property
    def summary(self) -> str:
        """The explanation without the paper counts, for lists."""
        deciding = next((h for h in self.horizons if h.name == self.deciding), None)
        return explain(self.state, self.horizons, deciding, counts=False, burst=self.bursting)

    def horizon(self, name: str) -> HorizonTrend:
        return next(h for h in self.horizons if h.name == name)

    def as_dict(self) -> dict[str, Any]:
        week = self.horizons[0]
        return {
            "state": self.state,
            "momentum": round(self.momentum, 3),
            "deciding": self.deciding,
            "bursting": self.bursting,
            "young": self.young,
            "explanation": self.explanation,
            "summary": self.summary,
            "horizons": {h.name: h.as_dict() for h in self.horizons},
            # The week's figures at the top level, as the first version of this column had them.
            "count": week.count,
            "total": week.total,
            "share": round(week.share, 6),
            "baseline_share": round(week.baseline_share, 6),
            "expected": round(week.expected, 3),
        }


# Words and numbers ------------------------------------------------------------------------------


def pct(share: float) -> str:
    """A share as people write it: 13 %, 9.9 %, 0.42 % (two significant digits), 0 %."""
    value = 100.0 * share
    if value == 0:
        return "0 %"
    if value >= 10:
        return f"{value:.0f} %"
    digits = max(1, 1 - math.floor(math.log10(value)))
    return f"{value:.{digits}f} %"


def times(ratio: float | None) -> str:
    """2.9×, 12×, 0.45×; "new" when there was nothing to compare with."""
    if ratio is None:
        return "new"
    if ratio >= 10:
        return f"{ratio:.0f}×"
    return f"{ratio:.1f}×" if ratio >= 1 else f"{ratio:.2f}×"


def day_words(day: date) -> str:
    return f"{day.day} {day:%b %Y}"


def weeks_words(weeks: int) -> str:
    return "the week" if weeks == 1 else f"the {weeks} weeks"


def window_words(start: date, end: date) -> str:
    """ "the 13 weeks to 31 Oct 2025" for the window from `start` to `end` (both included)."""
    return f"{weeks_words(((end - start).days + 1) // 7)} to {day_words(end)}"


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


# The share test ---------------------------------------------------------------------------------


def dispersion(counts: Sequence[int], totals: Sequence[int], share: float) -> float:
    """How much more weekly counts swing around `share` than binomial sampling would make them.

    Pearson's chi-square of the weeks with papers over its degrees of freedom, at least 1; 1 with
    fewer than three such weeks or a share of 0 or 1 (nothing to estimate from).
    """
    weeks = [(c, n) for c, n in zip(counts, totals, strict=True) if n > 0]
    if len(weeks) < 3 or not 0.0 < share < 1.0:
        return 1.0
    chi2 = sum((c - n * share) ** 2 / (n * share * (1.0 - share)) for c, n in weeks)
    return max(1.0, chi2 / (len(weeks) - 1))


def share_test(c: int, n: int, c0: int, n0: int, phi: float = 1.0) -> float:
    """z of the share c/n against c0/n0: the signed root of the likelihood-ratio statistic.

    G = 2 * sum(observed * ln(observed / expected)) over the four cells (topic or not, now or
    before) of the table, the expected counts at the pooled share; z = sign(c/n - c0/n0) * sqrt(G / phi)
    (G over the dispersion: the quasi-likelihood scaling). For large counts it is the pooled
    two-proportion z; for a rare topic it follows the skewed binomial tail where the normal
    approximation does not: it does not over-call a rise from a handful of papers (2 -> 6 is no
    z of 3) and does not under-call a fall to zero.
    """
    if n <= 0 or n0 <= 0:
        return 0.0
    pooled = (c + c0) / (n + n0)
    if not 0.0 < pooled < 1.0:
        return 0.0
    g = 2.0 * (
        _log_term(c, n * pooled)
        + _log_term(n - c, n * (1.0 - pooled))
        + _log_term(c0, n0 * pooled)
        + _log_term(n0 - c0, n0 * (1.0 - pooled))
    )
    difference = c / n - c0 / n0
    if difference == 0.0:
        return 0.0
    return math.copysign(math.sqrt(max(g, 0.0) / phi), difference)


def _log_term(observed: float, expected: float) -> float:
    """observed * ln(observed / expected), 0 for no observation (its limit)."""
    return observed * math.log(observed / expected) if observed > 0 else 0.0


def _validate(counts: Sequence[int], totals: Sequence[int]) -> None:
    if len(counts) != len(totals):
        raise ValueError("counts and totals must be of the same length")
    if any(c < 0 for c in counts) or any(c > n for c, n in zip(counts, totals, strict=True)):
        raise ValueError("each count must lie between 0 and its total")


def _padded(values: Sequence[int], weeks: int) -> list[int]:
    """The last `weeks` values, zeros in front when there are fewer (weeks before the data began)."""
    tail = list(values[-weeks:]) if weeks else []
    return [0] * (weeks - len(tail)) + tail


def horizon_trend(
    horizon: Horizon,
    counts: Sequence[int],
    totals: Sequence[int],
    *,
    end: date,
    params: TrendParams | None = None,
    previous: str | None = None,
) -> HorizonTrend:
    """One horizon from weekly counts and totals (oldest first; the last week ends on `end`).

    `previous` is the horizon's state a week earlier (hysteresis). Weeks missing at the front count
    as weeks before the data began.
    """
    p = params or TrendParams()
    _validate(counts, totals)
    cs, ns = _padded(counts, horizon.span), _padded(totals, horizon.span)
    c, n = sum(cs[-horizon.weeks :]), sum(ns[-horizon.weeks :])
    base_c, base_n = cs[: -horizon.weeks], ns[: -horizon.weeks]
    c0, n0 = sum(base_c), sum(base_n)
    start = end - timedelta(days=7 * horizon.weeks - 1)
    baseline_end = start - timedelta(days=1)
    with_papers = [i for i, total in enumerate(base_n) if total > 0]
    first = with_papers[0] if with_papers else len(base_n) - 1
    baseline_start = baseline_end - timedelta(days=7 * (len(base_n) - first) - 1)
    share0 = c0 / n0 if n0 else 0.0
    phi = dispersion(base_c, base_n, share0)
    z = share_test(c, n, c0, n0, phi)
    trend = HorizonTrend(
        name=horizon.name,
        state=None,
        count=c,
        total=n,
        baseline_count=c0,
        baseline_total=n0,
        start=start,
        end=end,
        baseline_start=baseline_start,
        baseline_end=baseline_end,
        z=z,
        dispersion=phi,
        min_count=horizon.min_count,
        min_ratio=horizon.min_ratio,
    )
    if n == 0:
        return _with(trend, None, "empty")
    if len(with_papers) < horizon.weeks:
        return _with(trend, None, "history")
    if not trend.enough:
        return _with(trend, None, "few")
    ratio, hold = trend.smoothed_ratio, trend.hold_ratio
    rises = c >= horizon.min_count and (
        (z >= p.z_rise and ratio >= horizon.min_ratio)
        or (previous == "rising" and z >= p.z_hold and ratio >= hold)
    )
    falls = trend.expected >= horizon.min_count and (
        (z <= -p.z_rise and ratio <= 1.0 / horizon.min_ratio)
        or (previous == "falling" and z <= -p.z_hold and ratio <= 1.0 / hold)
    )
    return _with(trend, "rising" if rises else "falling" if falls else "steady", "")


def _with(trend: HorizonTrend, state: str | None, note: str) -> HorizonTrend:
    return replace(trend, state=state, note=note)


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


# The topic's state ------------------------------------------------------------------------------


def topic_trend(
    counts: Sequence[int], totals: Sequence[int], *, end: date, params: TrendParams | None = None
) -> TopicTrend:
    """Every horizon, the overall state, momentum and explanation of one topic (see the module doc).

    `counts` and `totals` are weekly sums, oldest first, the last week ending on `end` (the reference
    day); `params.history_weeks` of them are read, missing ones count as weeks before the data began.
    """
    p = params or TrendParams()
    _validate(counts, totals)
    weeks = p.history_weeks
    cs, ns = _padded(counts, weeks), _padded(totals, weeks)
    week_before = end - timedelta(days=7)
    earlier = [horizon_trend(h, cs[:-1], ns[:-1], end=week_before, params=p).state for h in p.horizons]
    week, month, quarter = (
        horizon_trend(h, cs, ns, end=end, params=p, previous=prev)
        for h, prev in zip(p.horizons, earlier, strict=True)
    )
    horizons = (week, month, quarter)

    first = next((i for i, total in enumerate(ns) if total), len(ns))
    burst_c, burst_n = cs[first:][-BURST_HISTORY_WEEKS:], ns[first:][-BURST_HISTORY_WEEKS:]
    burst = (
        week.state == "rising"
        and len(burst_c) > 1
        and kleinberg_bursts(burst_c, burst_n, s=p.burst_s, gamma=p.burst_gamma)[-1] == 1
    )
    # New: fewer than the quarter's minimum papers in the two quarters before; growing fast: at
    # least twice the share now, with the quarter's minimum papers or a month rising on its own.
    young = (
        quarter.note in {"", "few"}
        and quarter.total > 0
        and quarter.baseline_count < quarter.min_count
        and (quarter.count >= quarter.min_count or month.state == "rising")
        and quarter.smoothed_ratio >= p.emerging_ratio
    )
    up, down = _direction(month, quarter, p)
    deciding: HorizonTrend | None
    # A burst is a spike the longer views did not already show: when the month or the quarter was
    # rising a week ago too, the topic is rising (and its explanation adds the burst); when they
    # rise only with this week's papers, the spike is all there is.
    spike = "rising" not in earlier[1:]
    if young and up is not None:
        state, deciding = "emerging", up
    elif burst and down is None and (up is None or spike):
        state, deciding = "bursting", week
    elif up is not None:
        state, deciding = "rising", up
    elif down is not None:
        state, deciding = "falling", down
    else:
        state, deciding = "steady", None
    # Steady: the week's z (0 below its minimum count) still orders lists and lends paper scores a little.
    z = deciding.z if deciding is not None else week.z if week.state is not None else 0.0
    momentum = max(-p.max_abs_momentum, min(p.max_abs_momentum, z))
    return TopicTrend(
        state=state,
        momentum=momentum,
        horizons=horizons,
        deciding=deciding.name if deciding else None,
        bursting=burst,
        young=young,
        explanation=explain(state, horizons, deciding, burst=burst),
    )


def _leans(h: HorizonTrend, direction: str, p: TrendParams) -> bool:
    """The horizon moves that way, or at least sits in its hysteresis band on that side."""
    if h.state == direction:
        return True
    if h.state is None:
        return False
    if direction == "rising":
        return h.z >= p.z_hold and h.smoothed_ratio >= h.hold_ratio
    return h.z <= -p.z_hold and h.smoothed_ratio <= 1.0 / h.hold_ratio


def _direction(
    month: HorizonTrend, quarter: HorizonTrend, p: TrendParams
) -> tuple[HorizonTrend | None, HorizonTrend | None]:
    """(the horizon that makes the topic rise, the one that makes it fall); at most one is set.

    The quarter decides unless the month moves the other way; the month decides earlier when the
    quarter already leans its way, or alone when the quarter cannot speak (too little history, or
    too few papers for its minimum): then the month is the longest view (rules 2 and 3 of the
    module docstring).
    """
    silent = quarter.note in {"history", "few"}  # the quarter says nothing either way
    for direction, other in (("rising", "falling"), ("falling", "rising")):
        if quarter.state == direction and month.state != other:
            found: HorizonTrend | None = quarter
        elif month.state == direction and (silent or _leans(quarter, direction, p)):
            found = month
        else:
            continue
        return (found, None) if direction == "rising" else (None, found)
    return None, None


def explain(
    state: str,
    horizons: Sequence[HorizonTrend],
    deciding: HorizonTrend | None,
    *,
    counts: bool = True,
    burst: bool = False,
) -> str:
    """One sentence, without the topic's name (the reader knows it, and a rename must not stale it);
    `counts=False` leaves out the papers behind the shares (a shorter line for lists); `burst` adds
    the week's burst to a longer rise."""
    if state == "emerging" and deciding is not None:
        return f"new and growing fast: {deciding.text(counts)}" + _burst_words(state, horizons, burst, counts)
    if state == "bursting" and deciding is not None:
        return f"a burst this week: {deciding.text(counts)}"
    if deciding is not None:
        return deciding.text(counts) + _burst_words(state, horizons, burst, counts)
    up = [h for h in horizons[1:] if h.state == "rising"]
    down = [h for h in horizons[1:] if h.state == "falling"]
    if up and down:
        return f"up over {window_words(up[0].start, up[0].end)} but down over " + (
            f"{window_words(down[0].start, down[0].end)}: {up[0].text(counts)}; {down[0].text(counts)}"
        )
    settled = [h for h in reversed(horizons) if h.state is not None]
    if settled:
        return f"no clear change: {settled[0].text(counts)}"
    return horizons[-1].text(counts)


def _burst_words(state: str, horizons: Sequence[HorizonTrend], burst: bool, counts: bool) -> str:
    """ "; and a burst this week: ..." after a longer rise whose last week also bursts."""
    week = horizons[0]
    if not burst or state not in UP_STATES or week.name != "week":
        return ""
    return f"; and a burst this week: {week.text(counts)}"


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
