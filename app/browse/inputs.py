"""Cleaning text that comes from a URL before it reaches a query (pure).

PostgreSQL refuses NUL characters in text parameters (SQLite takes them), so a request
carrying one would fail on one database and not the other; control characters are dropped
everywhere so both behave the same: the lookup simply finds nothing.
"""

from __future__ import annotations

import re

_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def clean(value: str) -> str:
    return _CONTROL.sub("", value)


def identifier(value: str) -> str:
    """An id or slug from a URL: one with control characters cannot exist, so it matches nothing."""
    return "" if _CONTROL.search(value) else value
