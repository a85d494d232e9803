"""arXiv's announcement calendar (pure): is a day an announcement day, and when is the next one.

arXiv announces new papers at 20:00 US Eastern, Sunday to Thursday, except on its published
holidays; the listing that results is dated the following weekday. The status page uses this
to answer "why is there nothing new today?".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

EASTERN = ZoneInfo("America/New_York")
ANNOUNCE_TIME = time(20, 0)
# Days without an announcement, from arXiv's availability page (source/help/availability.md).
ARXIV_HOLIDAYS: frozenset[date] = frozenset(
    {
        date(2025, 1, 1),
        date(2025, 1, 20),
        date(2025, 6, 19),
        date(2025, 7, 3),
        date(2025, 9, 1),
        date(2025, 11, 27),
        date(2025, 12, 25),
        date(2025, 12, 31),
        date(2026, 1, 1),
        date(2026, 1, 19),
        date(2026, 6, 19),
        date(2026, 7, 3),
        date(2026, 9, 7),
        date(2026, 11, 26),
        date(2026, 12, 25),
        date(2026, 12, 29),
        date(2026, 12, 31),
    }
)
# Monday=0 ... Sunday=6: announcements happen Sunday to Thursday evenings.
ANNOUNCE_WEEKDAYS = frozenset({6, 0, 1, 2, 3})


@dataclass(frozen=True)
class AnnouncementInfo:
    """Today's place in arXiv's calendar, in US Eastern time."""

    today: date
    is_announcement_day: bool
    reason: str
    last_announcement: datetime  # UTC
    next_announcement: datetime  # UTC


def is_announcement_day(day: date, holidays: frozenset[date] = ARXIV_HOLIDAYS) -> bool:
    return day.weekday() in ANNOUNCE_WEEKDAYS and day not in holidays


def why_not(day: date, holidays: frozenset[date] = ARXIV_HOLIDAYS) -> str:
    """A sentence saying whether arXiv announces on `day`, and why not if it does not."""
    if day in holidays:
        return "arXiv holiday: no announcement"
    if day.weekday() == 4:
        return "Friday: arXiv does not announce on Fridays"
    if day.weekday() == 5:
        return "Saturday: arXiv does not announce on Saturdays"
    return "arXiv announces new papers at 20:00 US Eastern"


def _announcement_at(day: date) -> datetime:
    return datetime.combine(day, ANNOUNCE_TIME, tzinfo=EASTERN).astimezone(UTC)


def announcement_info(now: datetime, holidays: frozenset[date] = ARXIV_HOLIDAYS) -> AnnouncementInfo:
    """Where `now` (aware) stands: today's status and the previous and next announcements."""
    local = now.astimezone(EASTERN)
    today = local.date()
    # The next announcement at or after now (today's counts if it has not happened yet).
    day = today if local.time() < ANNOUNCE_TIME else today + timedelta(days=1)
    while not is_announcement_day(day, holidays):
        day += timedelta(days=1)
    nxt = _announcement_at(day)
    day = today if local.time() >= ANNOUNCE_TIME else today - timedelta(days=1)
    while not is_announcement_day(day, holidays):
        day -= timedelta(days=1)
    last = _announcement_at(day)
    return AnnouncementInfo(
        today=today,
        is_announcement_day=is_announcement_day(today, holidays),
        reason=why_not(today, holidays),
        last_announcement=last,
        next_announcement=nxt,
    )
