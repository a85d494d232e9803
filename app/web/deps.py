"""Small request helpers shared by the page and feed routes: the clock, search state, settings values."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from fastapi import HTTPException, Request

from app.models._common import utcnow


def now(request: Request) -> datetime:
    """The clock; tests may set `app.state.clock` (the same hook the subscription pages use)."""
    clock = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else utcnow()


def encoder_of(request: Request) -> Any:
    return getattr(request.app.state, "encoder", None)


def index_of(request: Request) -> Any:
    return getattr(request.app.state, "index", None)


def model_name_of(request: Request) -> str | None:
    """Name of the embedding model the loaded index was built with (None: no index)."""
    index, encoder = index_of(request), encoder_of(request)
    name = getattr(index, "model_name", None) or getattr(encoder, "model_name", None)
    return str(name) if name else None


def setting(request: Request, name: str, default: Any) -> Any:
    settings = getattr(request.app.state, "settings", None)
    return getattr(settings, name, default)


def base_url(request: Request) -> str:
    """Public URL for absolute links in feeds: BASE_URL when configured, else this request's origin."""
    configured = setting(request, "base_url", None)
    return str(configured or str(request.base_url)).rstrip("/")


def form_date(value: str | None, name: str) -> date | None:
    """A date from a GET form: an empty field means no date (browsers send `from=` for it)."""
    value = (value or "").strip()
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise HTTPException(422, f"“{value}” is not a date for {name}; use YYYY-MM-DD.") from None
