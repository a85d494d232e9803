"""When a digest is due and which period it covers. Pure: the caller passes `now`.

The period key is the subscriber's local date for daily digests ("2026-05-04") and the
ISO week for weekly ones ("2026-W19"); one digest per (subscriber, period) is enforced
by a unique key, so building twice can never mail twice.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def local_time(now_utc: datetime, timezone: str) -> datetime:
    try:
        zone = ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")  # a stored zone that vanished from tzdata: fall back, never crash a run
    return now_utc.astimezone(zone)


def period_key(frequency: str, local_now: datetime) -> str:
    if frequency == "weekly":
        year, week, _ = local_now.isocalendar()
        return f"{year}-W{week:02d}"
    return local_now.date().isoformat()


def is_due(frequency: str, send_hour: int, local_now: datetime) -> bool:
    """Daily: from the send hour on, every local day. Weekly: from Monday's send hour on, once a week."""
    if frequency not in ("daily", "weekly"):
        return False
    return local_now.hour >= send_hour


def candidate_window(last_digest_at: datetime | None, first_since: date) -> tuple[date, datetime | None]:
    """(announced after this day, or ingested after this instant) for one subscriber's candidates.

    A first digest takes what was announced after `first_since` (see `first_window_start`); later
    ones take what was announced after the last digest's day, plus anything ingested since the
    last digest (a late ingest of an earlier day is not lost).
    """
    if last_digest_at is None:
        return first_since, None
    return last_digest_at.date(), last_digest_at


def first_window_start(recent_days: list[date], today: date, count: int) -> date:
    """The day after which a first digest's papers were announced (the window excludes this day).

    A first digest covers the `count` latest days that have papers (announcement day, else
    publication day, else the day the paper was first seen), not `count` calendar days: a
    subscriber who joins on a Monday morning, or on an instance whose newest papers are older
    (the bundled demo, a source that paused), still gets the newest papers there are, and each
    one says when it was announced. The window is bounded by its number of days with papers,
    not by the calendar, so it never holds more than `count` days' worth of papers however long
    ago they were; a calendar bound would leave a quiet archive (or the demo, as the months
    pass) with no first digest at all. `recent_days` holds the latest days with papers, newest
    first (from the database); days after tomorrow do not count; without any, the window is the
    last `count` days.
    """
    days = sorted({d for d in recent_days if d <= today + timedelta(days=1)}, reverse=True)[:count]
    if not days:
        return today - timedelta(days=count)
    return days[-1] - timedelta(days=1)


def long_date(day: date) -> str:
    """1 July 2026 (no leading zero, English month name)."""
    return f"{day.day} {day:%B %Y}"


def period_label(frequency: str, local_now: datetime) -> str:
    if frequency == "weekly":
        return f"week of {(local_now - timedelta(days=local_now.weekday())).strftime('%-d %B %Y')}"
    return local_now.strftime("%A %-d %B %Y")
