"""HTML error pages for the site (the JSON API answers errors in its own format).

`install_error_pages(app)` registers the renderer that the app's exception handlers
(`app.api.install_error_handlers`) call for every path outside /api.
"""

from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse

from app.http import state_of
from app.web.templating import render

TITLES = {
    404: "Page not found",
    405: "Method not allowed",
    422: "That request did not make sense",
    500: "Error",
}


def render_error_page(request: Request, status_code: int, message: str | None) -> HTMLResponse:
    try:
        phrase = HTTPStatus(status_code).phrase
    except ValueError:
        phrase = "Error"
    body = render(
        "pages/error.html",
        status_code=status_code,
        title=TITLES.get(status_code, phrase),
        message=message or phrase,
        path=request.url.path,
    )
    headers = {"Cache-Control": "no-store"}
    return HTMLResponse(body, status_code=status_code, headers=headers)


def install_error_pages(app: FastAPI) -> None:
    """Make errors on site paths render as pages of the site."""
    state_of(app).html_error_renderer = render_error_page
