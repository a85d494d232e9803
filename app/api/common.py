"""What the API routes share: cached JSON, read-only CORS headers, documented errors, ISO dates.

Sessions, settings, the clock and the site URL come from `app.http` like everywhere else.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Hashable
from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.routing import APIRoute
from pydantic import AfterValidator, BaseModel, BeforeValidator
from sqlalchemy.orm import Session

from app.api.errors import ErrorResponse
from app.browse.cache import cached
from app.browse.inputs import within_calendar

JSON = "application/json"
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _iso_only(value: Any) -> Any:
    # pydantic would also read "0" or "1700000000" as a date; the schema promises YYYY-MM-DD.
    if isinstance(value, str) and not ISO_DATE.fullmatch(value):
        raise ValueError("must be a date written as YYYY-MM-DD")
    return value


IsoDate = Annotated[date, BeforeValidator(_iso_only), AfterValidator(within_calendar)]
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Expose-Headers": "ETag, Cache-Control",
}
PREFLIGHT_HEADERS = {
    **CORS_HEADERS,
    "Access-Control-Allow-Methods": "GET, HEAD, OPTIONS",
    "Access-Control-Allow-Headers": "Accept, If-None-Match, Content-Type",
    "Access-Control-Max-Age": "86400",
}

# Documented on every route, so clients (and schema checks) know every answer they can get.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    304: {"description": "Not modified: the `If-None-Match` ETag is still current."},
    404: {"model": ErrorResponse, "description": "Not found."},
    422: {"model": ErrorResponse, "description": "Invalid parameters; `details` says which."},
}


async def cached_json(
    request: Request, key: Hashable, build: Callable[[Session], BaseModel], *, ttl: float | None = None
) -> Response:
    """Serve `build(session)` as JSON through the response cache, with ETag and CORS headers."""

    def render(session: Session) -> tuple[bytes, str]:
        return build(session).model_dump_json().encode(), JSON

    response = await cached(
        request, ("api", *((key,) if not isinstance(key, tuple) else key)), render, media_type=JSON
    )
    response.headers.update(CORS_HEADERS)
    return response


async def preflight() -> Response:
    """CORS preflight: reads only, from anywhere."""
    return Response(status_code=204, headers=PREFLIGHT_HEADERS)


def add_preflight(router: APIRouter) -> None:
    """One OPTIONS route per read path (a catch-all would turn unknown paths into 405s)."""
    for path in dict.fromkeys(r.path for r in list(router.routes) if isinstance(r, APIRoute)):
        router.add_api_route(path, preflight, methods=["OPTIONS"], include_in_schema=False)
