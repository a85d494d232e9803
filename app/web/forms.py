"""Reading the fields of the site's GET forms (search, trending): what a browser sends for them."""

from __future__ import annotations

from datetime import date

from fastapi import HTTPException

from app.browse.inputs import within_calendar


def form_date(value: str | None, name: str) -> date | None:
    """A date from a GET form: an empty field means no date (browsers send `from=` for it)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return within_calendar(date.fromisoformat(value))
    except ValueError:
        raise HTTPException(422, f"“{value}” is not a date for {name}; use YYYY-MM-DD.") from None
