"""Unsubscribing: the page behind the footer link, and the RFC 8058 one-click POST.

`POST /unsubscribe/{token}` is what Gmail and Yahoo send (`List-Unsubscribe=One-Click`,
urlencoded or multipart, no cookies): it needs no CSRF token (the signed link is the only
credential), never redirects, and answers 200 whether or not the address was already
unsubscribed. GET never changes anything (link scanners fetch every URL in a mail).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.subscribers.service import from_unsubscribe_token, resubscribe, unsubscribe
from app.subscribers.tokens import InvalidToken
from app.web.subscriptions.common import check_csrf, db, form_token, invalid_link, now_of, page, setup_of

router = APIRouter(include_in_schema=False)


@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str, session: Session = Depends(db)) -> HTMLResponse:
    setup = setup_of(request)
    try:
        subscriber = from_unsubscribe_token(session, setup.signer, token)
    except InvalidToken:
        return invalid_link("unsubscribe link")
    return page(
        "pages/unsubscribe.html",
        token=token,
        state=subscriber.status,
        email=subscriber.email,
        preferences_url=setup.preferences_url(subscriber.id, subscriber.link_key),
        csrf_token=form_token(request, "resubscribe", token),
    )


@router.post("/unsubscribe/{token}")
def unsubscribe_now(request: Request, token: str, session: Session = Depends(db)) -> HTMLResponse:
    """One click, from a mail client or from our page. The body is not needed and not read."""
    setup = setup_of(request)
    try:
        subscriber = from_unsubscribe_token(session, setup.signer, token)
    except InvalidToken:
        return invalid_link("unsubscribe link")
    unsubscribe(session, subscriber, now_of(request), via="one-click")
    return page(
        "pages/unsubscribe_done.html",
        token=token,
        email=subscriber.email,
        can_undo=subscriber.confirmed_at is not None,
        csrf_token=form_token(request, "resubscribe", token),
    )


@router.post("/unsubscribe/{token}/undo")
def unsubscribe_undo(
    request: Request,
    token: str,
    session: Session = Depends(db),
    csrf_token: Annotated[str, Form(max_length=2_000)] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token, "resubscribe", token)
    setup = setup_of(request)
    try:
        subscriber = from_unsubscribe_token(session, setup.signer, token)
    except InvalidToken:
        return invalid_link("unsubscribe link")
    resubscribe(session, subscriber, now_of(request))
    return page(
        "pages/unsubscribe.html",
        token=token,
        state=subscriber.status,
        email=subscriber.email,
        resubscribed=subscriber.status == "confirmed",
        preferences_url=setup.preferences_url(subscriber.id, subscriber.link_key),
        csrf_token=form_token(request, "resubscribe", token),
    )
