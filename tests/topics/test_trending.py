"""Trend maths: counting, share z-scores, Kleinberg bursts, topic states and paper scores."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.topics.trending import (
    DEFAULT_WEIGHTS,
    PaperSignals,
    TrendParams,
    daily_shares,
    daily_topic_counts,
    daily_totals,
    kleinberg_bursts,
    momentum_value,
    recency_value,
    score_papers,
    share_zscore,
    topic_trend,
    upvote_value,
    weekly_sums,
)

D0 = date(2026, 3, 2)


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


def test_share_zscore_flags_a_jump_and_not_a_steady_topic() -> None:
    totals = [1000] * 9
    steady = [50, 52, 49, 51, 48, 50, 53, 47, 51]
    share, base, _sd, z = share_zscore(steady, totals)
    assert share == pytest.approx(0.051)
    assert base == pytest.approx(0.05)
    assert abs(z) < 1
    jump = [*steady[:-1], 120]
    assert share_zscore(jump, totals)[3] > 5
    drop = [*steady[:-1], 5]
    assert share_zscore(drop, totals)[3] < -5


def test_share_zscore_uses_shares_not_counts() -> None:
    # Twice the papers in a week where everybody published twice as much is no trend.
    _, _, _, z = share_zscore([10, 10, 10, 10, 20], [200, 200, 200, 200, 400])
    assert z == pytest.approx(0.0)


def test_share_zscore_edge_cases() -> None:
    assert share_zscore([3], [10]) == (0.3, 0.3, 0.0, 0.0)  # no baseline
    assert share_zscore([0, 0, 0], [0, 0, 0]) == (0.0, 0.0, 0.0, 0.0)
    _, base, sd, z = share_zscore([0, 0, 0, 9], [100, 100, 100, 100])  # absent before: finite z
    assert base == 0.0 and sd > 0 and 0 < z < 1e6
    with pytest.raises(ValueError):
        share_zscore([5], [4])
    with pytest.raises(ValueError):
        share_zscore([1, 2], [3])


@given(
    st.lists(st.tuples(st.integers(0, 40), st.integers(0, 60)), min_size=2, max_size=12),
)
def test_share_zscore_is_finite_and_signed_like_the_change(weeks: list[tuple[int, int]]) -> None:
    counts = [min(c, n) for c, n in weeks]
    totals = [n for _, n in weeks]
    share, base, sd, z = share_zscore(counts, totals)
    assert 0.0 <= share <= 1.0 and 0.0 <= base <= 1.0 and sd >= 0.0
    assert z == z and abs(z) < 1e7  # finite, not NaN
    if totals[-1] and any(totals[:-1]):
        assert (z > 0) == (share > base) or share == pytest.approx(base)


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


def test_topic_trend_states() -> None:
    totals = [1000] * 9
    steady = topic_trend([50, 52, 49, 51, 48, 50, 53, 47, 51], totals)
    assert steady.state == "steady" and abs(steady.momentum) < 1
    rising = topic_trend([50, 52, 49, 51, 48, 50, 53, 47, 75], totals)
    assert rising.state in {"rising", "bursting"} and rising.momentum > 2
    falling = topic_trend([50, 52, 49, 51, 48, 50, 53, 47, 20], totals)
    assert falling.state == "falling" and falling.momentum < -2
    assert falling.as_dict()["state"] == "falling"


def test_small_topics_do_not_flap() -> None:
    # 1 -> 4 papers is a large z for a rare topic but below the minimum count: steady, momentum 0.
    trend = topic_trend([1, 0, 1, 0, 1, 0, 1, 0, 4], [1000] * 9, params=TrendParams(min_count=5))
    assert trend.momentum == 0.0 and trend.state == "steady" and not trend.bursting


def test_hysteresis_keeps_a_rising_topic_rising_until_it_cools() -> None:
    totals = [1000] * 9
    counts = [50, 52, 49, 51, 48, 50, 53, 47, 59]  # z between hold (1) and rise (2)
    fresh = topic_trend(counts, totals)
    assert 1.0 < fresh.momentum < 2.0 and fresh.state == "steady"
    assert topic_trend(counts, totals, previous_state="rising").state == "rising"


def test_emerging_needs_a_new_topic_with_enough_papers() -> None:
    totals = [1000] * 9
    counts = [0, 0, 0, 0, 2, 4, 6, 9, 14]
    assert topic_trend(counts, totals, is_new=True).state == "emerging"
    assert topic_trend(counts, totals, is_new=False).state in {"rising", "bursting"}
    assert topic_trend([0] * 8 + [2], totals, is_new=True).state == "steady"


def test_bursting_from_a_longer_history() -> None:
    hist_totals = [1000] * 30
    hist = [20] * 28 + [60, 70]
    trend = topic_trend(hist[-9:], hist_totals[-9:], burst_counts=hist, burst_totals=hist_totals)
    assert trend.bursting and trend.state == "bursting"


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
