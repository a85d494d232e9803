"""/admin (token from ADMIN_TOKEN; off when empty) and the bounce/complaint webhook.

Admin: sign in once with the token (kept in an HttpOnly, SameSite=Strict cookie that holds
a keyed hash of it, never the token), or send `Authorization: Bearer <token>`. Wrong tokens
are throttled (`app.web.access`); the cookie is valid site-wide, so the outbox opens with it.
Webhook: `POST /webhooks/bounces` with the shared secret in `Authorization: Bearer`,
`X-Webhook-Secret`, or an HMAC-SHA256 of the body in `X-Signature: sha256=<hex>`; without
it the answer is 401 and nothing changes. A header secret is checked before the body is read;
the body itself is capped by `app.http.limits`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from app.db import session_scope
from app.http import AppState, NowDep, SessionDep, SettingsDep, StateDep
from app.mail.overview import overview
from app.mail.pause import resume
from app.security.strength import secret_equals
from app.subscribers.suppression import BounceEvent, apply_events, parse_webhook
from app.subscribers.validation import InvalidInput
from app.web.access import COOKIE, LoginThrottle, admin_authorized, admin_token, cookie_value
from app.web.subscriptions.common import check_csrf, form_token, page

router = APIRouter(include_in_schema=False)


def _authorized(request: Request) -> bool:
    admin_token(request)  # 404 while /admin is off
    return admin_authorized(request)


@router.get("/admin")
def admin_page(request: Request, session: SessionDep, settings: SettingsDep, now: NowDep) -> HTMLResponse:
    if not _authorized(request):
        return page("pages/admin_login.html", 401, csrf_token=form_token(request, "admin-login"))
    return page(
        "pages/admin.html",
        o=overview(session, now),
        now=now,
        outbox=settings.uses_file_outbox,
        csrf_token=form_token(request, "admin"),
    )


@router.post("/admin/login")
def admin_login(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str, Form(max_length=1_000)] = "",
    csrf_token: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    check_csrf(request, csrf_token, "admin-login")
    expected = admin_token(request)
    throttle = LoginThrottle.of(request)
    throttle.check()
    if not secret_equals(token.strip(), expected):
        throttle.failed()
        return page("pages/admin_login.html", 401, error=True, csrf_token=form_token(request, "admin-login"))
    throttle.succeeded()
    response = HTMLResponse("", status_code=303, headers={"Location": "/admin", "Cache-Control": "no-store"})
    response.set_cookie(
        COOKIE,
        cookie_value(request, expected),
        httponly=True,
        samesite="strict",
        secure=settings.base_url.startswith("https://"),
        max_age=12 * 3600,
        path="/",
    )
    return response


@router.post("/admin/logout")
def admin_logout(request: Request, csrf_token: Annotated[str, Form(max_length=2_000)] = "") -> Response:
    check_csrf(request, csrf_token, "admin")
    response = HTMLResponse("", status_code=303, headers={"Location": "/admin"})
    response.delete_cookie(COOKIE, path="/")
    response.delete_cookie(COOKIE, path="/admin")  # set by earlier versions
    return response


@router.post("/admin/resume")
def admin_resume(
    request: Request,
    session: SessionDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=2_000)] = "",
) -> Response:
    if not _authorized(request):
        raise HTTPException(401, "Sign in to the admin page first.")
    check_csrf(request, csrf_token, "admin")
    resume(session, now)
    return HTMLResponse("", status_code=303, headers={"Location": "/admin"})


def _header_secret(request: Request) -> str | None:
    """The secret sent in a header (Bearer or X-Webhook-Secret); None when the sender signs instead."""
    bearer = request.headers.get("authorization", "")
    if bearer[:7].lower() == "bearer ":
        return bearer[7:].strip()
    return request.headers.get("x-webhook-secret") or None


def _signature_matches(request: Request, secret: str, body: bytes) -> bool:
    signature = request.headers.get("x-signature", "").removeprefix("sha256=")
    expected = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return bool(signature) and secret_equals(signature.lower(), expected)


@router.post("/webhooks/bounces")
async def bounce_webhook(request: Request, state: StateDep) -> JSONResponse:
    secret = state.settings.bounce_webhook_secret
    if not secret:
        return JSONResponse(
            {"error": "the bounce webhook is disabled (BOUNCE_WEBHOOK_SECRET)"}, status_code=404
        )
    # The secret is checked before the body is read: a stranger's request costs no more than its headers.
    # Only a signed request (X-Signature, an HMAC of the body) needs the body, which BodyLimit caps.
    shared = _header_secret(request)
    refused = JSONResponse({"error": "missing or wrong webhook secret"}, status_code=401)
    if shared is not None and not secret_equals(shared, secret):
        return refused
    if shared is None and not request.headers.get("x-signature"):
        return refused
    body = await request.body()
    if shared is None and not _signature_matches(request, secret, body):
        return refused
    try:
        events = parse_webhook(json.loads(body))
    except (ValueError, InvalidInput) as exc:
        message = exc.message if isinstance(exc, InvalidInput) else f"body is not JSON: {exc}"
        return JSONResponse({"error": message}, status_code=422)
    counts = await run_in_threadpool(_apply, state, events)
    return JSONResponse({"received": len(events), **counts})


def _apply(state: AppState, events: list[BounceEvent]) -> dict[str, int]:
    # Its own transaction in a worker thread: the body was read (and checked) on the event loop.
    with session_scope(state.session_factory) as session:
        return apply_events(session, events, source="webhook", now=state.now())
