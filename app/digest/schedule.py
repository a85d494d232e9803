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


def candidate_window(
    now_utc: datetime, last_digest_at: datetime | None, first_days: int
) -> tuple[date, datetime | None]:
    """(announced after this day, or ingested after this instant) for one subscriber's candidates.

    A first digest looks back `first_days` days of announcements; later ones take what was
    announced after the last digest's day, plus anything ingested since the last digest (a late
    ingest of an earlier day is not lost).
    """
    if last_digest_at is None:
        return (now_utc - timedelta(days=first_days)).date(), None
    return last_digest_at.date(), last_digest_at


def period_label(frequency: str, local_now: datetime) -> str:
    if frequency == "weekly":
        return f"week of {(local_now - timedelta(days=local_now.weekday())).strftime('%-d %B %Y')}"
    return local_now.strftime("%A %-d %B %Y")
