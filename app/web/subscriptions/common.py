"""What the subscription pages share: CSRF form tokens, the size check, private pages, email HTML.

Sessions, settings, the clock and the mail setup come from `app.http` (`SessionDep`, `NowDep`...).
"""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse

from app.config import Settings
from app.digest.built import DigestOptions
from app.http import state_of
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


def digest_options_of(request: Request) -> DigestOptions:
    """Digest options for a preview: the loaded encoder's model, else the configured model's name."""
    state = state_of(request)
    model = getattr(state.encoder, "model_name", None)
    return DigestOptions.from_settings(state.settings, model or _stored_model_name(state.settings))


def _stored_model_name(settings: Settings) -> str | None:
    try:
        from app.embed.encoder import stable_model_name
    except ImportError:  # pragma: no cover - the embed package is part of the app
        return None
    return stable_model_name(settings.model_path)


def check_size(request: Request) -> None:
    length = request.headers.get("content-length")
    if length and length.isdigit() and int(length) > MAX_FORM_BYTES:
        raise HTTPException(413, "That form submission is too large.")


def form_token(request: Request, form: str, bound: str = "") -> str:
    return state_of(request).mail_setup.signer.form_token(form, bound)


def check_csrf(request: Request, token: str, form: str, bound: str = "") -> float:
    """Verify a form token; returns when it was issued. A bad token is a 403 and nothing happens."""
    try:
        return state_of(request).mail_setup.signer.read_form(token, form, bound).issued_at
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
