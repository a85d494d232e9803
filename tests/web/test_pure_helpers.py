"""Pure helpers of the site: LaTeX to text, shortening, dates, charts, arXiv's calendar, score parts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from app.browse.calendar import announcement_info, is_announcement_day
from app.browse.explain import score_parts
from app.browse.topics import trim_leading_empty, week_points
from app.browse.types import WeekPoint
from app.web.charts import nice_step, sparkline, week_chart
from app.web.text import ago, authors_short, latex_to_text, shorten, signed


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"runs in $O(n^2)$ time", "runs in O(n²) time"),
        (r"with $\alpha \leq 0.5$ and $\beta\to\infty$", "with α ≤ 0.5 and β→∞"),
        (r"an \emph{efficient} and \textbf{robust} method", "an efficient and robust method"),
        (r"vectors in $\mathbb{R}^{d}$", "vectors in ℝ^d"),
        (r"$x_i$ and $x_{ij}$ and $W_{\text{out}}$", "xᵢ and xᵢⱼ and W_out"),
        (r"a $\frac{1}{2}$ and $\sqrt{d_k}$ scaling", "a 1/2 and √(dₖ) scaling"),
        (r"10\% faster -- and cheaper --- really", "10% faster – and cheaper — really"),
        (r"``quoted'' text~\cite{smith2020}.", "“quoted” text."),
        (r"Schr\"odinger and G\'eron", "Schrödinger and Géron"),
        (r"costs \$5 and \$10", "costs $5 and $10"),
        ("plain text stays", "plain text stays"),
        ("", ""),
    ],
)
def test_latex_to_text(latex: str, text: str) -> None:
    assert latex_to_text(latex) == text


@given(st.text(max_size=300))
def test_latex_to_text_never_fails(value: str) -> None:
    assert isinstance(latex_to_text(value), str)


def test_shorten_prefers_sentence_ends() -> None:
    text = "First sentence is here. Second sentence is a bit longer and goes on and on."
    assert shorten(text, 35) == "First sentence is here."
    assert shorten("word " * 30, 30).endswith("…")
    assert len(shorten("word " * 30, 30)) <= 31
    assert shorten("short", 30) == "short"


def test_authors_and_relative_dates() -> None:
    assert authors_short(["A", "B"]) == "A, B"
    assert authors_short(["A", "B", "C", "D", "E"]) == "A, B, C et al. (5 authors)"
    now = datetime(2026, 11, 25, 12, tzinfo=UTC)
    assert ago(now - timedelta(seconds=5), now) == "just now"
    assert ago(now - timedelta(hours=3), now) == "3 hours ago"
    assert ago(now - timedelta(days=1), now) == "1 day ago"
    assert ago(now + timedelta(hours=2), now) == "in 2 hours"
    assert ago(None, now) == "never"
    assert signed(2.345) == "+2.3" and signed(-1.0) == "−1.0"


def test_sparkline_geometry() -> None:
    spark = sparkline([0, 5, 10], width=100, height=20, pad=0)
    assert spark.line == "0,20 50,10 100,0"
    assert spark.maximum == 10
    flat = sparkline([], width=50, height=10)
    assert flat.line.count(",") == 2  # two points: a flat line


def test_week_chart_geometry() -> None:
    end = date(2026, 11, 25)
    points = week_points([1, 2, 3, 4, 10], end=end, shown=3, baseline_weeks=2)
    assert [p.count for p in points] == [3, 4, 10]
    assert [p.baseline for p in points] == [1.5, 2.5, 3.5]
    assert points[-1].end == end and points[-1].start == end - timedelta(days=6)
    chart = week_chart(points, width=300, height=100)
    assert len(chart.bars) == 3 and chart.bars[-1].above_baseline
    tallest = max(chart.bars, key=lambda b: b.height)
    assert tallest.count == 10
    assert chart.baseline.count(",") == 3
    assert chart.y_ticks[0][1] == "0"
    assert nice_step(10) in (2, 5) and nice_step(0) == 1 and nice_step(87) == 25


def test_trim_leading_empty_weeks() -> None:
    end = date(2026, 11, 25)
    points = [WeekPoint(end, end, c, None) for c in [0] * 20 + [1, 2]]
    assert len(trim_leading_empty(points, keep=8)) == 8
    assert len(trim_leading_empty(points[:5], keep=8)) == 5


def test_arxiv_calendar() -> None:
    assert is_announcement_day(date(2026, 11, 22))  # Sunday
    assert not is_announcement_day(date(2026, 11, 27))  # Friday
    assert not is_announcement_day(date(2026, 11, 26))  # Thanksgiving holiday
    friday = announcement_info(datetime(2026, 11, 27, 15, 0, tzinfo=UTC))
    assert not friday.is_announcement_day and "Friday" in friday.reason
    # Next announcement: Sunday 29 Nov, 20:00 US Eastern = 01:00 UTC Monday.
    assert friday.next_announcement == datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
    # Last one: Wednesday 25 Nov (Thursday is a holiday).
    assert friday.last_announcement == datetime(2026, 11, 26, 1, 0, tzinfo=UTC)
    holiday = announcement_info(datetime(2026, 11, 26, 18, 0, tzinfo=UTC))
    assert "holiday" in holiday.reason


def test_score_parts_structured_and_flat() -> None:
    parts = score_parts(
        {"parts": {"recency": 0.1, "upvotes": 0.3, "code": 0.0}, "values": {"recency": 0.4, "upvotes": 0.75}}
    )
    assert [p.name for p in parts] == ["upvotes", "recency", "code"]
    assert parts[0].label == "Upvotes" and parts[0].weight == pytest.approx(0.4)
    assert parts[0].percent == 30
    flat = score_parts({"novelty_bonus": 0.2, "note": "text is ignored"})
    assert [(p.label, p.contribution) for p in flat] == [("Novelty bonus", 0.2)]
    assert score_parts(None) == []
