"""Subscribing and confirming: the form, the "check your inbox" page, the confirmation page.

The answer to a valid submission is the same page with the same status for every
outcome (new, pending, confirmed, suppressed, throttled, honeypot), so the form cannot be
used to learn whether an address is subscribed. Each form token works once; the rules for
bots, the limits and the queued confirmation are the shared path's (`app.http.subscribe`).
A confirmation link opens a page; only the POST from that page confirms (link scanners GET
every URL in a mail).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, HTTPException, Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from app.http import MailSetupDep, NowDep, SessionDep, SubscribeDep
from app.subscribers import queries
from app.subscribers.service import confirm, pending_for_confirm_token
from app.subscribers.tokens import InvalidToken
from app.subscribers.validation import MAX_TOPICS, InvalidInput, normalize_email, parse_ids
from app.web.subscriptions.common import check_csrf, form_token, invalid_link, page

router = APIRouter(include_in_schema=False)
FORM_USED = "This form was already sent. Please reload the page to subscribe again."


def _form(
    request: Request,
    session: Session,
    *,
    email: str = "",
    chosen: list[int] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    topics = queries.selectable_topics(session)
    if chosen is None:
        wanted = request.query_params.get("topic", "")
        chosen = [t.id for t in topics if t.slug == wanted]
    return page(
        "pages/subscribe.html",
        status_code,
        private=False,
        section="subscribe",
        topics=topics,
        chosen=set(chosen),
        email=email,
        errors=errors or {},
        csrf_token=form_token(request, "subscribe"),
    )


@router.get("/subscribe")
def subscribe_form(request: Request, session: SessionDep) -> HTMLResponse:
    return _form(request, session)


@router.post("/subscribe")
def subscribe_submit(
    request: Request,
    session: SessionDep,
    subscriptions: SubscribeDep,
    email: Annotated[str, Form(max_length=10_000)] = "",
    topics: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI reads the default, never mutates it
    website: Annotated[str, Form(max_length=10_000)] = "",
    csrf_token: Annotated[str, Form(max_length=2_000)] = "",
) -> HTMLResponse:
    # The body was capped before it was read (app.http.limits).
    issued_at = check_csrf(request, csrf_token, "subscribe")
    try:
        address = normalize_email(email)
        if refusal := subscriptions.address_refusal(address):
            raise InvalidInput("email", refusal)
        topic_ids = parse_ids(topics, "topics", MAX_TOPICS)
    except InvalidInput as exc:
        shown = email if len(email) <= 320 and "\n" not in email and "\r" not in email else ""
        return _form(request, session, email=shown, errors={exc.field: exc.message}, status_code=422)
    session.close()  # the subscription runs in its own transactions
    try:
        subscriptions.submit(
            email=address,
            topic_ids=topic_ids,
            source="web",
            token=csrf_token,
            issued_at=issued_at,
            honeypot=website,
        )
    except InvalidToken:  # the form was sent before: same answer as an expired form
        raise HTTPException(403, FORM_USED) from None
    return sent_page()


def sent_page() -> HTMLResponse:
    """The one answer to every valid submission (no address, no state, nothing per request)."""
    return page("pages/subscribe_sent.html", 200, private=True, section="subscribe")


@router.get("/confirm/{token}")
def confirm_page(
    request: Request, token: str, session: SessionDep, setup: MailSetupDep, now: NowDep
) -> HTMLResponse:
    try:
        pending_for_confirm_token(session, setup.signer, token, now)
    except InvalidToken:
        return invalid_link("confirmation link")
    return page(
        "pages/subscribe_confirm.html",
        section="subscribe",
        token=token,
        csrf_token=form_token(request, "confirm", token),
    )


@router.post("/confirm/{token}")
def confirm_submit(
    request: Request,
    token: str,
    session: SessionDep,
    setup: MailSetupDep,
    now: NowDep,
    csrf_token: Annotated[str, Form(max_length=2_000)] = "",
) -> HTMLResponse:
    check_csrf(request, csrf_token, "confirm", token)
    try:
        subscriber = confirm(session, setup.signer, token, now)
    except InvalidToken:
        return invalid_link("confirmation link")
    return page(
        "pages/subscribe_confirmed.html",
        section="subscribe",
        preferences_url=setup.preferences_url(subscriber.id, subscriber.link_key),
    )
