"""Trend maths: counting, the share test per horizon, topic states and their explanations, bursts,
paper scores."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.topics.trending import (
    DEFAULT_WEIGHTS,
    Horizon,
    PaperSignals,
    TrendParams,
    daily_shares,
    daily_topic_counts,
    daily_totals,
    dispersion,
    horizon_trend,
    kleinberg_bursts,
    momentum_value,
    pct,
    recency_value,
    score_papers,
    share_test,
    times,
    topic_trend,
    upvote_value,
    weekly_sums,
)

D0 = date(2026, 3, 2)
END = date(2025, 10, 31)
WEEKS = TrendParams().history_weeks
P = TrendParams()
WEEK, MONTH, QUARTER = P.horizons


def weekly(shares: list[float], totals: list[int]) -> list[int]:
    """Counts for the given weekly shares (rounded), oldest first; the first share fills missing weeks."""
    shares = [shares[0]] * (len(totals) - len(shares)) + shares
    return [round(s * n) for s, n in zip(shares, totals, strict=True)]


def test_daily_counts_and_shares() -> None:
    days = [D0, D0, D0, D0 + timedelta(days=1)]
    totals = daily_totals(days)
    counts = daily_topic_counts([(1, D0), (1, D0), (2, D0), (1, D0 + timedelta(days=1))])
    assert totals == {D0: 3, D0 + timedelta(days=1): 1}
    assert counts[1] == {D0: 2, D0 + timedelta(days=1): 1}
    assert daily_shares(counts[1], totals) == {D0: 2 / 3, D0 + timedelta(days=1): 1.0}
    assert daily_shares(counts[2], {}) == {}


def test_weekly_sums_are_rolling_windows_ending_on_the_day() -> None:
    end = date(2026, 3, 31)
    daily = {end: 5, end - timedelta(days=6): 1, end - timedelta(days=7): 2, end - timedelta(days=20): 4}
    daily[end + timedelta(days=1)] = 100  # after the end: ignored
    daily[end - timedelta(days=21)] = 100  # before the first window: ignored
    assert weekly_sums(daily, end=end, weeks=3) == [4, 2, 6]


@given(st.dictionaries(st.integers(0, 60), st.integers(0, 50), max_size=40), st.integers(1, 9))
def test_weekly_sums_conserve_the_days_inside(offsets: dict[int, int], weeks: int) -> None:
    end = date(2026, 1, 31)
    daily = {end - timedelta(days=k): n for k, n in offsets.items()}
    sums = weekly_sums(daily, end=end, weeks=weeks)
    assert len(sums) == weeks
    assert sum(sums) == sum(n for k, n in offsets.items() if k < 7 * weeks)


# The share test ---------------------------------------------------------------------------------


def test_horizons_are_whole_weeks_with_the_issue_baselines() -> None:
    assert [(h.name, h.weeks, h.baseline_weeks) for h in P.horizons] == [
        ("week", 1, 8),
        ("month", 4, 12),
        ("quarter", 13, 26),
    ]
    assert [h.min_count for h in P.horizons] == [5, 10, 20]
    assert WEEKS == 13 * 3 + 1  # the quarter and its baseline, and a week more for the hysteresis
    custom = TrendParams(baseline_weeks=4, min_count=2, min_count_month=3, min_count_quarter=7)
    assert [(h.baseline_weeks, h.min_count) for h in custom.horizons] == [(4, 2), (12, 3), (26, 7)]


def test_share_test_uses_shares_not_counts() -> None:
    # Twice the papers in a week where everybody published twice as much is no trend.
    assert share_test(20, 400, 40, 800) == pytest.approx(0.0)
    assert share_test(60, 400, 40, 800) > 5
    assert share_test(5, 400, 40, 800) < -2
    assert share_test(3, 0, 5, 10) == 0.0 and share_test(0, 10, 0, 10) == 0.0


def _normal_z(c: int, n: int, c0: int, n0: int) -> float:
    pooled = (c + c0) / (n + n0)
    return (c / n - c0 / n0) / (pooled * (1 - pooled) * (1 / n + 1 / n0)) ** 0.5


def test_share_test_follows_the_binomial_tail_of_a_small_topic() -> None:
    # Many papers: the likelihood ratio and the pooled two-proportion z agree.
    big = (1170, 13000, 1300, 26000)
    assert share_test(*big) == pytest.approx(_normal_z(*big), rel=0.05)
    # 2 papers a quarter that become 6 (12 in the two quarters before): the normal approximation
    # calls it z = 3; the binomial tail it stands for is much less surprising.
    assert _normal_z(6, 300, 12, 2400) > 3.0 and 2.2 < share_test(6, 300, 12, 2400) < 2.8
    # And a fall to none is more telling than the normal approximation says.
    assert _normal_z(0, 300, 12, 2400) > -1.3 and share_test(0, 300, 12, 2400) < -1.6
    # The dispersion divides the statistic, as it multiplies the variance of the normal z.
    assert share_test(60, 400, 40, 800, phi=4.0) == pytest.approx(share_test(60, 400, 40, 800) / 2)


def test_dispersion_grows_with_week_to_week_swings() -> None:
    assert dispersion([50] * 8, [1000] * 8, 0.05) == 1.0  # no more spread than sampling: at least 1
    swinging = [20, 80, 25, 75, 30, 70, 20, 80]
    assert dispersion(swinging, [1000] * 8, 0.05) > 5
    assert dispersion([5, 0, 7], [0, 0, 0], 0.05) == 1.0  # weeks without papers are no evidence
    # A wilder baseline makes the same jump less surprising.
    flat = horizon_trend(WEEK, [50] * 8 + [75], [1000] * 9, end=END)
    wild = horizon_trend(WEEK, [*swinging, 75], [1000] * 9, end=END)
    assert wild.dispersion > flat.dispersion and wild.z < flat.z


def test_a_flat_share_is_steady_whatever_the_weekday_and_deadline_rhythm() -> None:
    # Weekly totals swing (holidays, a deadline week with three times the papers); the share does not.
    totals = [300 + 200 * (i % 5 == 0) - 150 * (i % 13 == 6) for i in range(WEEKS)]
    totals[-3] = 900  # a conference deadline
    counts = weekly([0.08] * WEEKS, totals)
    trend = topic_trend(counts, totals, end=END)
    assert trend.state == "steady"
    assert all(h.state == "steady" and abs(h.z) < 1 for h in trend.horizons)
    assert trend.explanation.startswith("no clear change: 8.0 % of papers in the 13 weeks to 31 Oct 2025")


def test_a_rise_over_the_quarter_is_rising_with_its_reason() -> None:
    totals = [1000] * WEEKS
    shares = [0.034] * 26 + [0.034 + 0.005 * (i + 1) for i in range(13)]  # 3.4 % -> 9.9 % in a quarter
    trend = topic_trend(weekly(shares, totals), totals, end=END)
    quarter = trend.horizon("quarter")
    assert trend.state == "rising" and trend.deciding == "quarter"
    assert quarter.state == "rising" and quarter.ratio is not None and quarter.ratio > 1.9
    assert trend.momentum == pytest.approx(min(quarter.z, P.max_abs_momentum))
    assert trend.explanation == (
        f"{pct(quarter.share)} of papers in the 13 weeks to 31 Oct 2025 ({quarter.count:,} of 13,000) "
        f"against 3.4 % in the 26 weeks before (884 of 26,000), {times(quarter.ratio)}"
    )


def test_a_fall_is_falling_and_a_mixed_topic_is_steady() -> None:
    totals = [1000] * WEEKS
    falling = topic_trend(weekly([0.10] * 26 + [0.04] * 13, totals), totals, end=END)
    assert falling.state == "falling" and falling.deciding == "quarter" and falling.momentum < -2
    assert "0.40×" in falling.explanation
    # Up over the quarter, but the last 4 weeks fell back hard: no direction to call.
    mixed = topic_trend(weekly([0.03] * 26 + [0.09] * 9 + [0.03] * 4, totals), totals, end=END)
    assert mixed.horizon("quarter").state == "rising" and mixed.horizon("month").state == "falling"
    assert mixed.state == "steady" and mixed.explanation.startswith("up over the 13 weeks to 31 Oct 2025 but")


def test_a_month_alone_does_not_make_a_rise_but_confirms_an_early_one() -> None:
    totals = [1000] * WEEKS
    # A four-week bump on a flat quarter: the month rises, the topic does not.
    bump = topic_trend(weekly([0.05] * 35 + [0.072] * 4, totals), totals, end=END)
    assert bump.horizon("month").state == "rising" and bump.horizon("quarter").state == "steady"
    assert bump.state == "steady"
    # A month rising on a quarter already leaning up (in its hysteresis band): rising, said by the month.
    early = topic_trend(weekly([0.05] * 26 + [0.055] * 9 + [0.085] * 4, totals), totals, end=END)
    quarter = early.horizon("quarter")
    assert (
        quarter.state == "steady" and quarter.z >= P.z_hold and quarter.smoothed_ratio >= quarter.hold_ratio
    )
    assert early.state == "rising" and early.deciding == "month"
    assert early.explanation.startswith("8.5 % of papers in the 4 weeks to 31 Oct 2025")


def test_horizon_minimum_counts() -> None:
    totals = [300] * WEEKS
    # 1 -> 4 papers a week is a large z for a rare topic but below the week's minimum of 5.
    week = horizon_trend(WEEK, [1] * 8 + [4], [300] * 9, end=END)
    assert week.state is None and week.note == "few" and "too few papers to tell" in week.text()
    assert horizon_trend(WEEK, [1] * 8 + [6], [300] * 9, end=END).state == "rising"
    # The quarter needs 20: 19 papers after 6 in the half year before is not yet a trend.
    small = [0] * 27 + [1] * 6 + [2] * 6 + [1]
    assert sum(small[-13:]) == 19
    trend = topic_trend(small, totals, end=END)
    assert trend.horizon("quarter").state is None and trend.state == "steady"
    bigger = [0] * 27 + [1] * 6 + [2] * 6 + [2]
    assert topic_trend(bigger, totals, end=END).horizon("quarter").state == "rising"
    # A fall needs the minimum among the papers expected at the old share.
    gone = horizon_trend(MONTH, [1] * 12 + [0] * 4, [300] * 16, end=END)
    assert gone.expected < MONTH.min_count and gone.state is None


def test_too_little_history_gives_no_state() -> None:
    totals = [0] * 30 + [500] * 10  # the data began ten weeks ago
    counts = [0] * 30 + [25] * 5 + [75] * 5
    trend = topic_trend(counts, totals, end=END)
    quarter = trend.horizon("quarter")
    assert quarter.state is None and quarter.note == "history"
    assert "too little history" in quarter.text()
    # The baseline starts where the data does, and the text says how long it is.
    month = trend.horizon("month")
    assert month.baseline_start == END - timedelta(days=7 * 10 - 1)
    assert "in the 6 weeks before" in month.text()
    # Before the data covers a quarter's comparison the month is the longest view, and it decides.
    assert month.state == "rising" and trend.state == "rising" and trend.deciding == "month"


def test_hysteresis_keeps_a_horizon_rising_until_it_cools() -> None:
    counts, totals = [50] * 8 + [64], [1000] * 9
    fresh = horizon_trend(WEEK, counts, totals, end=END)
    assert P.z_hold <= fresh.z < P.z_rise and fresh.state == "steady"
    held = horizon_trend(WEEK, counts, totals, end=END, previous="rising")
    assert held.state == "rising"
    assert horizon_trend(WEEK, [50] * 8 + [52], totals, end=END, previous="rising").state == "steady"
    fall = horizon_trend(WEEK, [50] * 8 + [38], totals, end=END, previous="falling")
    assert fall.state == "falling" and horizon_trend(WEEK, [50] * 8 + [38], totals, end=END).state == "steady"


def test_hysteresis_reads_the_week_before_from_the_data() -> None:
    totals = [1000] * WEEKS
    # The quarter cleared the bar a week ago (1.33x) and is now a little below it, inside the band.
    shares = [0.05] * 27 + [0.068] * 12 + [0.04]
    before = topic_trend(weekly(shares[:-1], totals[:-1]), totals[:-1], end=END - timedelta(days=7))
    now = topic_trend(weekly(shares, totals), totals, end=END)
    assert before.horizon("quarter").state == "rising"
    quarter = now.horizon("quarter")
    assert quarter.hold_ratio < quarter.smoothed_ratio < QUARTER.min_ratio and quarter.state == "rising"
    assert now.horizon("month").state == "steady" and now.state == "rising"


def test_emerging_is_a_new_topic_growing_fast() -> None:
    totals = [1000] * WEEKS
    counts = [0] * 31 + [2, 3, 4, 5, 6, 8, 10, 12, 14]
    trend = topic_trend(counts, totals, end=END)
    assert trend.young and trend.state == "emerging"
    assert trend.explanation.startswith("new and growing fast: ")
    assert "none in the 26 weeks before" in trend.explanation
    # An old topic growing as fast is rising, not emerging.
    old = topic_trend([30] * 27 + [60] * 13, totals, end=END)
    assert not old.young and old.state == "rising"


def test_a_one_week_spike_is_a_burst() -> None:
    totals = [1000] * WEEKS
    trend = topic_trend([30] * (WEEKS - 1) + [95], totals, end=END)
    assert trend.bursting and trend.state == "bursting" and trend.deciding == "week"
    assert trend.explanation.startswith("a burst this week: 9.5 % of papers in the week to 31 Oct 2025")
    assert trend.momentum > 2
    # Noise around the same share is none.
    noisy = [28, 33, 30, 27, 35, 31, 29, 32, 26, 30] * 4
    assert topic_trend(noisy, totals, end=END).state == "steady"


def test_a_burst_on_a_rise_under_way_is_a_rise_that_says_so() -> None:
    totals = [1000] * WEEKS
    # Rising over the quarter for weeks already, and the last week jumps on top of it.
    counts = weekly([0.03] * 26 + [0.03 + 0.003 * (i + 1) for i in range(12)] + [0.15], totals)
    trend = topic_trend(counts, totals, end=END)
    assert trend.bursting and trend.state == "rising" and trend.deciding == "quarter"
    quarter = trend.horizon("quarter")
    assert trend.explanation.startswith(f"{pct(quarter.share)} of papers in the 13 weeks to 31 Oct 2025")
    assert "; and a burst this week: 15 % of papers in the week to 31 Oct 2025" in trend.explanation
    assert "and a burst this week: 15 % of papers in the week" in trend.summary


def test_a_month_rise_counts_when_the_quarter_has_too_few_papers_to_speak() -> None:
    totals = [400] * WEEKS
    # About 1.2 papers a week for half a year, half a paper a week, then 3 to 4 a week for a month:
    # 18 papers in the quarter, below its 20, and 16 expected at the old share.
    counts = ([1, 1, 1, 2] * 7)[:27] + [0, 1] * 4 + [0] + [3, 4, 3, 4]
    trend = topic_trend(counts, totals, end=END)
    quarter, month = trend.horizon("quarter"), trend.horizon("month")
    assert quarter.state is None and quarter.note == "few" and quarter.count < QUARTER.min_count
    assert month.state == "rising" and trend.state == "rising" and trend.deciding == "month"
    assert not trend.young
    assert trend.explanation.startswith("0.88 % of papers in the 4 weeks to 31 Oct 2025 (14 of 1,600)")
    # While the quarter speaks and sees no change, a month alone is still no rise (see above).


def test_a_new_topic_is_emerging_from_its_first_month() -> None:
    totals = [400] * WEEKS
    # No paper for half a year, then the same weeks as above: new, and growing fast within a month.
    counts = [0] * 27 + [0, 1] * 4 + [0] + [3, 4, 3, 4]
    trend = topic_trend(counts, totals, end=END)
    assert trend.horizon("quarter").note == "few" and trend.horizon("quarter").baseline_count == 0
    assert trend.young and trend.state == "emerging" and trend.deciding == "month"
    assert trend.explanation.startswith("new and growing fast: 0.88 % of papers in the 4 weeks to 31 Oct")


def test_a_flat_topic_of_any_size_is_rarely_anything_but_steady() -> None:
    # Weekly counts drawn at a constant share on a volume that swings like arXiv's: whatever the
    # share, a flat topic is steady on at least nine days in ten.
    rng = np.random.default_rng(7)
    totals = [int(n) for n in rng.integers(250, 600, WEEKS)]
    for share in (0.003, 0.01, 0.05):
        states = [
            topic_trend([int(rng.binomial(n, share)) for n in totals], totals, end=END).state
            for _ in range(200)
        ]
        assert states.count("steady") >= 180, (share, {s: states.count(s) for s in set(states)})


def test_state_dict_has_every_horizon() -> None:
    totals = [1000] * WEEKS
    data = topic_trend(weekly([0.05] * 26 + [0.09] * 13, totals), totals, end=END).as_dict()
    assert data["state"] == "rising" and data["deciding"] == "quarter"
    assert set(data["horizons"]) == {"week", "month", "quarter"}
    quarter = data["horizons"]["quarter"]
    assert quarter["window"] == ["2025-08-02", "2025-10-31"]
    assert quarter["baseline_window"] == ["2025-02-01", "2025-08-01"]
    assert (quarter["count"], quarter["total"], quarter["baseline_count"]) == (1170, 13000, 1300)
    assert quarter["ratio"] == pytest.approx(1.8) and quarter["text"].endswith("1.8×")
    assert data["count"] == data["horizons"]["week"]["count"]  # the first version's keys stay


def test_words_and_numbers() -> None:
    assert [pct(x) for x in (0.13, 0.099, 0.034, 0.0042, 0.0, 1.0)] == [
        "13 %",
        "9.9 %",
        "3.4 %",
        "0.42 %",
        "0 %",
        "100 %",
    ]
    assert [times(x) for x in (2.9118, 12.4, 0.4512, None)] == ["2.9×", "12×", "0.45×", "new"]


@settings(max_examples=80)
@given(
    st.lists(st.tuples(st.integers(0, 60), st.integers(0, 400)), min_size=1, max_size=45),
    st.sampled_from([0, 1, 3]),
)
def test_any_series_gives_a_known_state_and_finite_numbers(weeks: list[tuple[int, int]], hold: int) -> None:
    counts = [min(c, n) for c, n in weeks]
    totals = [n for _, n in weeks]
    trend = topic_trend(counts, totals, end=END, params=TrendParams(min_count=hold))
    assert trend.state in {"emerging", "bursting", "rising", "falling", "steady"}
    assert abs(trend.momentum) <= P.max_abs_momentum
    for h in trend.horizons:
        assert h.state in {None, "rising", "falling", "steady"}
        assert h.z == h.z and h.dispersion >= 1.0
        assert 0.0 <= h.share <= 1.0 and 0.0 <= h.baseline_share <= 1.0
        assert h.text()
    assert trend.explanation


def test_bad_series_are_refused() -> None:
    with pytest.raises(ValueError):
        topic_trend([5], [4], end=END)
    with pytest.raises(ValueError):
        topic_trend([1, 2], [3], end=END)
    with pytest.raises(ValueError):
        horizon_trend(Horizon("week", 1, 8, 5, 1.5), [-1], [3], end=END)


# Bursts -----------------------------------------------------------------------------------------


def test_kleinberg_finds_the_burst_and_nothing_in_a_flat_series() -> None:
    totals = [1000] * 20
    flat = [30] * 20
    assert kleinberg_bursts(flat, totals) == [0] * 20
    burst = [30] * 8 + [150, 160, 155] + [30] * 9
    assert kleinberg_bursts(burst, totals) == [0] * 8 + [1, 1, 1] + [0] * 9


def test_kleinberg_ignores_noise_and_handles_empty_input() -> None:
    noisy = [28, 33, 30, 27, 35, 31, 29, 32, 26, 30]
    assert sum(kleinberg_bursts(noisy, [1000] * 10)) == 0
    assert kleinberg_bursts([], []) == []
    assert kleinberg_bursts([0, 0], [10, 10]) == [0, 0]
    assert kleinberg_bursts([0, 0], [0, 0]) == [0, 0]
    with pytest.raises(ValueError):
        kleinberg_bursts([1], [2], s=1.0)


@settings(max_examples=60)
@given(st.lists(st.tuples(st.integers(0, 30), st.integers(30, 80)), min_size=1, max_size=30))
def test_kleinberg_returns_a_state_per_batch(batches: list[tuple[int, int]]) -> None:
    counts = [c for c, _ in batches]
    totals = [n for _, n in batches]
    states = kleinberg_bursts(counts, totals)
    assert len(states) == len(batches)
    assert set(states) <= {0, 1}
    # The same share in every batch is never a burst, whatever the volumes.
    assert kleinberg_bursts([n // 10 * 3 for n in totals], [n // 10 * 10 for n in totals]) == [0] * len(
        totals
    )


# Paper scores -----------------------------------------------------------------------------------


def test_paper_score_parts_sum_and_order() -> None:
    ref = date(2026, 6, 30)
    papers = [
        PaperSignals(1, ref, upvotes=80, has_code=True, topics=[(0.9, 4.0)]),
        PaperSignals(2, ref, upvotes=None, topics=[(0.9, 0.5)]),
        PaperSignals(3, ref - timedelta(days=3), upvotes=40),
        PaperSignals(4, ref - timedelta(days=10), upvotes=500),  # outside the week
    ]
    week = score_papers(papers, window="week", ref_day=ref)
    assert [s.paper_id for s in week] == [1, 3, 2]
    for s in week:
        assert s.score == pytest.approx(sum(s.parts.values()), abs=1e-5)
        assert set(s.parts) == set(DEFAULT_WEIGHTS["week"])
        assert s.components()["values"]["recency"] == s.values["recency"]
    assert week[0].values["code"] == 1.0 and week[0].values["topic_momentum"] == pytest.approx(0.9)
    assert week[0].detail == {"age_days": 0, "upvotes": 80, "has_code": True}
    day = score_papers(papers, window="day", ref_day=ref)
    assert {s.paper_id for s in day} == {1, 2}
    month = score_papers(papers, window="month", ref_day=ref)
    assert {s.paper_id for s in month} == {1, 2, 3, 4}
    with pytest.raises(ValueError):
        score_papers(papers, window="year", ref_day=ref)


@given(
    st.lists(
        st.tuples(
            st.integers(0, 40),
            st.one_of(st.none(), st.integers(0, 2000)),
            st.booleans(),
            st.lists(st.tuples(st.floats(0, 1), st.floats(-20, 20)), max_size=3),
        ),
        max_size=25,
    ),
    st.sampled_from(["day", "week", "month"]),
)
def test_paper_scores_are_bounded_sorted_and_explained(rows: list, window: str) -> None:
    ref = date(2026, 6, 30)
    papers = [
        PaperSignals(i, ref - timedelta(days=age), upvotes=up, has_code=code, topics=topics)
        for i, (age, up, code, topics) in enumerate(rows)
    ]
    scores = score_papers(papers, window=window, ref_day=ref)
    assert all(0.0 <= s.score <= 1.0 + 1e-9 for s in scores)
    assert [s.score for s in scores] == sorted((s.score for s in scores), reverse=True)
    assert all(abs(s.score - sum(s.parts.values())) < 1e-5 for s in scores)
    assert len(scores) == sum(1 for age, *_ in rows if age < {"day": 1, "week": 7, "month": 30}[window])


def test_component_values() -> None:
    assert recency_value(0, 7) == 1.0
    assert recency_value(7, 21) == pytest.approx(0.5)
    assert recency_value(2, 7) > recency_value(5, 7)
    assert upvote_value(None) == 0.0 and upvote_value(0) == 0.0
    assert upvote_value(100) == pytest.approx(1.0) and upvote_value(10_000) == 1.0
    assert 0 < upvote_value(5) < upvote_value(50) < 1
    assert momentum_value([]) == 0.0
    assert momentum_value([(1.0, -3.0)]) == 0.0
    assert momentum_value([(0.5, 6.0), (1.0, 1.5)]) == pytest.approx(0.5)
