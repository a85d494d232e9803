"""Unsubscribing: the page behind the footer link, and the RFC 8058 one-click POST.

`POST /unsubscribe/{token}` is what Gmail and Yahoo send (`List-Unsubscribe=One-Click`,
urlencoded or multipart, no cookies): it needs no CSRF token (the signed link is the only
credential), never redirects, and answers 200 whether or not the address was already
unsubscribed. GET never changes anything (link scanners fetch every URL in a mail).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.http import MailSetupDep, NowDep, SessionDep
from app.mail.compose import MailSetup
from app.models import Subscriber
from app.models.statuses import SubscriberStatus
from app.subscribers.service import from_unsubscribe_token, resubscribe, unsubscribe
from app.subscribers.tokens import InvalidToken
from app.web.subscriptions.common import check_csrf, form_token, invalid_link, page

router = APIRouter(include_in_schema=False)


def _subscriber(session: Session, setup: MailSetup, token: str) -> Subscriber | None:
    try:
        return from_unsubscribe_token(session, setup.signer, token)
    except InvalidToken:
        return None


def _state_page(
    request: Request, setup: MailSetup, subscriber: Subscriber, token: str, *, resubscribed: bool = False
) -> HTMLResponse:
    """The page behind the footer link: the address, its state and the way back."""
    return page(
        "pages/unsubscribe.html",
        token=token,
        state=subscriber.status,
        email=subscriber.email,
        resubscribed=resubscribed,
        preferences_url=setup.preferences_url(subscriber.id, subscriber.link_key),
        csrf_token=form_token(request, "resubscribe", token),
    )


@router.get("/unsubscribe/{token}")
def unsubscribe_page(request: Request, token: str, session: SessionDep, setup: MailSetupDep) -> HTMLResponse:
    subscriber = _subscriber(session, setup, token)
    if subscriber is None:
        return invalid_link("unsubscribe link")
    return _state_page(request, setup, subscriber, token)


@router.post("/unsubscribe/{token}")
def unsubscribe_now(
    request: Request, token: str, session: SessionDep, setup: MailSetupDep, now: NowDep
) -> HTMLResponse:
    """One click, from a mail client or from our page. The body is not needed and not read."""
    subscriber = _subscriber(session, setup, token)
    if subscriber is None:
        return invalid_link("unsubscribe link")
    unsubscribe(session, subscriber, now, via="one-click")
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
    session: SessionDep,
    setup: MailSetupDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=2_000)] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token, "resubscribe", token)
    subscriber = _subscriber(session, setup, token)
    if subscriber is None:
        return invalid_link("unsubscribe link")
    resubscribe(session, subscriber, now)
    return _state_page(
        request, setup, subscriber, token, resubscribed=subscriber.status == SubscriberStatus.CONFIRMED
    )
