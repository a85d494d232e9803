"""Shared plumbing of the subscription pages: the mail setup, the clock, sessions, CSRF, pages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.digest.service import DigestOptions
from app.mail.compose import MailSetup
from app.mail.delivery import DeliveryPolicy
from app.mail.senders import Sender
from app.models._common import utcnow
from app.subscribers.service import SubscribeLimits
from app.subscribers.tokens import InvalidToken
from app.web.templating import render

CSRF_FIELD = "csrf_token"
HONEYPOT_FIELD = "website"
MAX_FORM_BYTES = 64 * 1024
# Pages behind signed links must not leak the link to other sites or sit in shared caches.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
# The email HTML (preview, outbox) carries inline styles: served with its own narrow policy,
# framable only by our own pages, scripts never.
EMAIL_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:; "
    "form-action 'none'; frame-ancestors 'self'"
)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def setup_of(request: Request) -> MailSetup:
    """The mail setup, built once per app from its settings."""
    setup: MailSetup | None = getattr(request.app.state, "mail_setup", None)
    if setup is None:
        setup = MailSetup.from_settings(settings_of(request))
        request.app.state.mail_setup = setup
    return setup


def sender_of(request: Request) -> Sender:
    sender: Sender = request.app.state.sender
    return sender


def factory_of(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.session_factory
    return factory


def now_of(request: Request) -> datetime:
    """The clock; tests may set `app.state.clock`."""
    clock: Callable[[], datetime] | None = getattr(request.app.state, "clock", None)
    return clock() if clock is not None else utcnow()


def db(request: Request) -> Iterator[Session]:
    """One transaction per request, committed when the handler returns without error."""
    with session_scope(factory_of(request)) as session:
        yield session


def limits_of(request: Request) -> SubscribeLimits:
    s = settings_of(request)
    return SubscribeLimits(
        cooldown_minutes=s.subscribe_cooldown_minutes,
        ip_per_hour=s.subscribe_ip_limit,
        global_per_hour=s.subscribe_global_limit,
    )


def policy_of(request: Request) -> DeliveryPolicy:
    return DeliveryPolicy.from_settings(settings_of(request))


def digest_options_of(request: Request) -> DigestOptions:
    s = settings_of(request)
    model = getattr(getattr(request.app.state, "encoder", None), "model_name", None)
    return DigestOptions(
        first_days=s.digest_first_days,
        model_name=model or _stored_model_name(s),
        quiet_note=s.quiet_day_note,
    )


def _stored_model_name(settings: Settings) -> str | None:
    try:
        from app.embed.encoder import stable_model_name
    except ImportError:  # pragma: no cover - the embed package is part of the app
        return None
    return stable_model_name(settings.model_path)


def client_ip(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def check_size(request: Request) -> None:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise HTTPException(413, "That form submission is too large.")


def form_token(request: Request, form: str, bound: str = "") -> str:
    return setup_of(request).signer.form_token(form, bound)


def check_csrf(request: Request, token: str, form: str, bound: str = "") -> float:
    """Verify a form token; returns when it was issued. A bad token is a 403 and nothing happens."""
    try:
        return setup_of(request).signer.read_form(token, form, bound).issued_at
    except InvalidToken:
        raise HTTPException(
            403, "This form has expired or did not come from this site. Please reload the page and try again."
        ) from None


def page(template: str, status_code: int = 200, *, private: bool = True, **context: Any) -> HTMLResponse:
    headers = dict(PRIVATE_HEADERS) if private else {"Cache-Control": "no-store"}
    return HTMLResponse(render(template, **context), status_code=status_code, headers=headers)


def invalid_link(kind: str = "link") -> HTMLResponse:
    """One generic answer for unknown, altered, expired, used or misdirected links."""
    return page("pages/subscribe_invalid.html", 400, kind=kind)


def email_html(html: str) -> HTMLResponse:
    # Links open in the whole window, not inside the frame of the outbox page.
    html = html.replace("<head>", '<head><base target="_top">', 1)
    headers = {
        **PRIVATE_HEADERS,
        "Content-Security-Policy": EMAIL_CSP,
        "X-Frame-Options": "SAMEORIGIN",
    }
    return HTMLResponse(html, headers=headers)
