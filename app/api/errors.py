"""One error format for the whole JSON API, also for 404, 405 and 422 raised by the framework.

    {"error": {"status": 404, "code": "not_found", "message": "...", "details": [...]}}

Errors on site pages (outside /api) go to the HTML renderer the site registers in
`AppState.html_error_renderer` (`app.http.state`), so a browser gets a page and a client gets JSON.

A database that cannot serve (down, unreachable within the connect timeout, pool exhausted,
not migrated) is a 503 with `Retry-After`, logged in one line per interval rather than a
traceback per request. Unexpected errors are logged with the request path stripped of signed
tokens; the answer never carries the error itself.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from pydantic import BaseModel, Field
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.http import state_of
from app.readiness import note_unreachable
from app.security.redact import redact_path

log = logging.getLogger("papertrend.api")

API_PREFIX = "/api/"
CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    410: "gone",
    413: "too_large",
    415: "unsupported_media_type",
    422: "invalid_request",
    429: "too_many_requests",
    500: "internal_error",
    503: "unavailable",
}


class ErrorDetail(BaseModel):
    loc: str = Field(description="Where the problem is, e.g. `query.limit`.", examples=["query.limit"])
    message: str = Field(examples=["Input should be less than or equal to 100"])


class ErrorBody(BaseModel):
    status: int = Field(examples=[404])
    code: str = Field(description="Stable machine-readable code.", examples=["not_found"])
    message: str = Field(examples=["No paper with the id 2401.99999."])
    details: list[ErrorDetail] = Field(default_factory=list)


class ErrorResponse(BaseModel):
    """The body of every error answer of the API."""

    error: ErrorBody


def error_json(
    status: int,
    message: str,
    details: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = {
        "error": {
            "status": status,
            "code": CODES.get(status, "error"),
            "message": message,
            "details": details or [],
        }
    }
    return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store", **(headers or {})})


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def _loc(parts: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(p) for p in parts)


def validation_details(exc: RequestValidationError) -> list[dict[str, str]]:
    return [{"loc": _loc(e.get("loc", ())), "message": str(e.get("msg", "invalid"))} for e in exc.errors()]


def _site_page(request: Request, status: int, message: str) -> Response:
    renderer = state_of(request).html_error_renderer
    if renderer is not None:
        return renderer(request, status, message)
    return PlainTextResponse(f"{status} {message}", status_code=status)


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


async def http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    message = exc.detail if isinstance(exc.detail, str) else _phrase(exc.status_code)
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"Nothing lives at {request.url.path}."
    headers = dict(exc.headers or {})
    if is_api(request):
        return error_json(exc.status_code, message, headers=headers)
    response = _site_page(request, exc.status_code, message)
    response.headers.update(headers)
    return response


async def validation_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    details = validation_details(exc)
    if is_api(request):
        return error_json(422, "The request has invalid parameters.", details)
    readable = "; ".join(f"{d['loc'].split('.')[-1]}: {d['message']}" for d in details)
    return _site_page(request, 422, f"Some of the address's parameters are not valid ({readable}).")


RETRY_AFTER_S = 30
UNAVAILABLE_MESSAGE = "The service cannot reach its database right now; please try again in a minute."


async def database_unavailable(request: Request, exc: Exception) -> Response:
    note_unreachable(exc, where=f"{request.method} {redact_path(request.url.path)}")
    headers = {"Retry-After": str(RETRY_AFTER_S)}
    if is_api(request):
        return error_json(503, UNAVAILABLE_MESSAGE, headers=headers)
    response = _site_page(request, 503, UNAVAILABLE_MESSAGE)
    response.headers.update(headers)
    return response


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s %s", request.method, redact_path(request.url.path), exc_info=exc)
    if is_api(request):
        return error_json(500, "Something went wrong on our side; it has been logged.")
    return _site_page(request, 500, "Something went wrong on our side; it has been logged.")


def install_error_handlers(app: FastAPI) -> None:
    """JSON errors under /api, site error pages elsewhere (call once in create_app)."""
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    for unavailable in (OperationalError, InterfaceError, PoolTimeout):
        app.add_exception_handler(unavailable, database_unavailable)
    app.add_exception_handler(Exception, server_error)
