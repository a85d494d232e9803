"""Which subscribers are due for a digest now, for which period and which candidate window.

`schedule` holds the time arithmetic (pure, on plain values); this module applies it to
subscriber rows and packs the answer into a `Due` that the planning step reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from app.digest import schedule
from app.models import Subscriber


@dataclass
class Due:
    subscriber: Subscriber
    period: str
    local_now: datetime
    since_day: date
    since_ts: datetime | None


def due_subscribers(subscribers: list[Subscriber], now: datetime, first_days: int) -> list[Due]:
    out = []
    for sub in subscribers:
        local = schedule.local_time(now, sub.timezone)
        if not schedule.is_due(sub.frequency, sub.send_hour, local):
            continue
        since_day, since_ts = schedule.candidate_window(now, sub.last_digest_at, first_days)
        out.append(Due(sub, schedule.period_key(sub.frequency, local), local, since_day, since_ts))
    return out


def preview_due(subscriber: Subscriber, now: datetime, first_days: int) -> Due:
    """The subscriber's next digest as if it were due now (a preview is never written, so no period)."""
    local = schedule.local_time(now, subscriber.timezone)
    since_day, since_ts = schedule.candidate_window(now, subscriber.last_digest_at, first_days)
    return Due(subscriber, "preview", local, since_day, since_ts)
