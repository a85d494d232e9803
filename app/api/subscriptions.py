"""`POST /api/v1/subscriptions`: the JSON way to subscribe, with the same protections as the form.

Double opt-in by email, the per-address cooldown, the per-IP and global limits all apply,
and the answer is the same 202 for every valid request (new, pending, confirmed,
suppressed or throttled address), so the endpoint cannot be used to probe addresses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field
from sqlalchemy import select

from app.db import session_scope
from app.mail.compose import MailSetup
from app.mail.delivery import DeliveryPolicy
from app.mail.outbox import request_subscription
from app.mail.senders import address_refusal
from app.models import Topic
from app.models._common import utcnow
from app.subscribers.service import SubscribeLimits
from app.subscribers.validation import MAX_TOPICS, InvalidInput, normalize_email

router = APIRouter(tags=["subscriptions"])
ACCEPTED_MESSAGE = (
    "If this address can receive our email, a confirmation link is on its way. "
    "Nothing is sent until the link is opened and confirmed."
)


class SubscriptionRequest(BaseModel):
    email: Annotated[str, Field(max_length=320, examples=["ada@example.org"])]
    topics: Annotated[
        list[str], Field(default_factory=list, max_length=MAX_TOPICS, description="Topic slugs (or ids).")
    ]


class SubscriptionAccepted(BaseModel):
    status: str = Field("accepted", examples=["accepted"])
    message: str = Field(ACCEPTED_MESSAGE)


def _setup(request: Request) -> MailSetup:
    setup: MailSetup | None = getattr(request.app.state, "mail_setup", None)
    if setup is None:
        setup = MailSetup.from_settings(request.app.state.settings)
        request.app.state.mail_setup = setup
    return setup


@router.post("/subscriptions", status_code=202, response_model=SubscriptionAccepted)
def create_subscription(body: SubscriptionRequest, request: Request) -> SubscriptionAccepted:
    """Start a subscription: a confirmation email goes to the address (double opt-in)."""
    try:
        email = normalize_email(body.email)
    except InvalidInput as exc:
        raise HTTPException(422, exc.message) from None
    if refusal := address_refusal(request.app.state.sender, email):
        raise HTTPException(422, refusal)
    factory = request.app.state.session_factory
    refs = [t.strip() for t in body.topics if t.strip()]
    topic_ids: list[int] = []
    if refs:
        with session_scope(factory) as session:
            rows = session.execute(select(Topic.id, Topic.slug).where(Topic.hidden.is_(False))).all()
        by_ref = {slug: tid for tid, slug in rows} | {str(tid): tid for tid, _ in rows}
        unknown = [r for r in refs if r not in by_ref]
        if unknown:
            raise HTTPException(422, f"Unknown topic: {unknown[0][:80]} (see GET /api/v1/topics).")
        topic_ids = sorted({by_ref[r] for r in refs})
    settings = request.app.state.settings
    clock = getattr(request.app.state, "clock", None)
    request_subscription(
        factory,
        _setup(request),
        request.app.state.sender,
        email=email,
        topic_ids=topic_ids,
        ip=request.client.host if request.client else "unknown",
        now=clock() if clock else utcnow(),
        limits=SubscribeLimits(
            cooldown_minutes=settings.subscribe_cooldown_minutes,
            ip_per_hour=settings.subscribe_ip_limit,
            global_per_hour=settings.subscribe_global_limit,
        ),
        source="api",
        policy=DeliveryPolicy.from_settings(settings),
    )
    return SubscriptionAccepted()
