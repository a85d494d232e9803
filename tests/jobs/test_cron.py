"""Crontab day-of-week numbering (0 = Sunday) holds in the embedded scheduler too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.config import ConfigError, load_settings
from app.cron import apscheduler_day_of_week, cron_trigger, crontab_days


def _fire_days(expression: str, weeks: int = 2) -> list[str]:
    trigger = cron_trigger(expression)
    start = datetime(2026, 12, 6, tzinfo=UTC)  # a Sunday
    days, previous = [], None
    fire = trigger.get_next_fire_time(None, start)
    while fire is not None and fire < start + timedelta(weeks=weeks):
        days.append(fire.strftime("%a"))
        previous = fire
        fire = trigger.get_next_fire_time(previous, previous + timedelta(seconds=1))
    return days


def test_weekdays_are_monday_to_friday() -> None:
    assert _fire_days("30 5 * * 1-5", weeks=1) == ["Mon", "Tue", "Wed", "Thu", "Fri"]


@pytest.mark.parametrize(
    ("field", "days"),
    [
        ("0", ["Sun"]),
        ("7", ["Sun"]),
        ("6", ["Sat"]),
        ("1,3,5", ["Mon", "Wed", "Fri"]),
        ("*/2", ["Sun", "Tue", "Thu", "Sat"]),
        ("1-5/2", ["Mon", "Wed", "Fri"]),
        ("1-7", ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]),
        ("mon-fri", ["Mon", "Tue", "Wed", "Thu", "Fri"]),
        ("fri-mon", ["Sun", "Mon", "Fri", "Sat"]),
        ("SAT,sun", ["Sun", "Sat"]),
    ],
)
def test_day_of_week_terms_keep_their_crontab_meaning(field: str, days: list[str]) -> None:
    assert _fire_days(f"0 12 * * {field}", weeks=1) == days


def test_every_day_stays_every_day() -> None:
    assert apscheduler_day_of_week("*") == "*"
    assert crontab_days("*") == set(range(7))
    assert len(_fire_days("0 0 * * *", weeks=1)) == 7


@pytest.mark.parametrize("field", ["8", "funday", "1-9", "*/0"])
def test_a_bad_day_of_week_is_refused_in_one_line(field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(schedule_arxiv=f"30 5 * * {field}")
    assert "SCHEDULE_ARXIV" in str(caught.value) and "\n" not in str(caught.value)
