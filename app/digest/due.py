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

    @property
    def first(self) -> bool:
        """The subscriber's first digest (its window is the latest days with papers)."""
        return self.since_ts is None


def due_subscribers(subscribers: list[Subscriber], now: datetime, first_since: date) -> list[Due]:
    """Subscribers whose send hour has come; a first digest takes papers announced after `first_since`."""
    out = []
    for sub in subscribers:
        local = schedule.local_time(now, sub.timezone)
        if not schedule.is_due(sub.frequency, sub.send_hour, local):
            continue
        since_day, since_ts = schedule.candidate_window(sub.last_digest_at, first_since)
        out.append(Due(sub, schedule.period_key(sub.frequency, local), local, since_day, since_ts))
    return out


def preview_due(subscriber: Subscriber, now: datetime, first_since: date) -> Due:
    """The subscriber's next digest as if it were due now (a preview is never written, so no period)."""
    local = schedule.local_time(now, subscriber.timezone)
    since_day, since_ts = schedule.candidate_window(subscriber.last_digest_at, first_since)
    return Due(subscriber, "preview", local, since_day, since_ts)
