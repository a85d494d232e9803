"""Cleaning text and dates that come from a URL before they reach a query (pure).

PostgreSQL refuses NUL characters in text parameters (SQLite takes them), so a request
carrying one would fail on one database and not the other; control characters are dropped
everywhere so both behave the same: the lookup simply finds nothing.
"""

from __future__ import annotations

import re
from datetime import date

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(value: str) -> str:
    return _CONTROL.sub("", value)


def identifier(value: str) -> str:
    """An id or slug from a URL: one with control characters cannot exist, so it matches nothing."""
    return "" if _CONTROL.search(value) else value


# Days a page or the API is asked about: a window is counted back from them and a feed forward, so
# a day at the edge of the calendar (0001-01-01, 9999-12-31) would overflow date arithmetic.
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(2999, 12, 31)


def within_calendar(day: date) -> date:
    """A requested day brought into the range any paper can have: asking about 0001-01-01 means
    "from the beginning", 9999-12-31 "up to now", and neither overflows a window's arithmetic."""
    return min(max(day, EARLIEST_DAY), LATEST_DAY)
