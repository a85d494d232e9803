"""When digests are due and which period they cover (pure)."""

from __future__ import annotations

from datetime import UTC, date, datetime

from app.digest.schedule import (
    candidate_window,
    first_window_start,
    is_due,
    local_time,
    period_key,
    period_label,
)


def test_local_time_period_keys_and_due_hours() -> None:
    now = datetime(2026, 1, 4, 23, 30, tzinfo=UTC)  # Sunday evening in UTC, Monday in Tokyo
    tokyo = local_time(now, "Asia/Tokyo")
    assert period_key("daily", tokyo) == "2026-01-05" and period_key("weekly", tokyo) == "2026-W02"
    assert period_key("daily", local_time(now, "UTC")) == "2026-01-04"
    assert is_due("daily", 7, tokyo) and not is_due("daily", 9, tokyo)
    assert not is_due("paused", 0, tokyo)
    assert local_time(now, "Not/AZone").utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert period_label("daily", tokyo) == "Monday 5 January 2026"
    assert period_label("weekly", tokyo) == "week of 5 January 2026"


def test_candidate_window() -> None:
    assert candidate_window(None, date(2026, 5, 2)) == (date(2026, 5, 2), None)
    last = datetime(2026, 5, 4, 8, tzinfo=UTC)
    assert candidate_window(last, date(2026, 5, 2)) == (date(2026, 5, 4), last)


def test_first_window_covers_the_latest_days_with_papers() -> None:
    today = date(2026, 12, 3)
    # Papers of months ago (the demo): the three latest days with papers, wherever they lie.
    old = [date(2026, 7, 1), date(2026, 6, 30), date(2026, 6, 29), date(2026, 6, 26)]
    assert first_window_start(old, today, 3) == date(2026, 6, 28)
    # Weekends and gaps do not count: three days with papers, however far apart.
    sparse = [date(2026, 12, 3), date(2026, 7, 1), date(2026, 6, 30), date(2026, 6, 1)]
    assert first_window_start(sparse, today, 3) == date(2026, 6, 29)
    # Papers dated after tomorrow do not define the window; nothing at all: the last `count` days.
    assert first_window_start([date(2027, 1, 1)], today, 3) == date(2026, 11, 30)
    assert first_window_start([], today, 3) == date(2026, 11, 30)
