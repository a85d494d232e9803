"""`POST /api/v1/subscriptions`: the JSON way to subscribe, with the same protections as the form.

Double opt-in by email, the per-address cooldown, the per-IP and global limits all apply
(the form's own path, `app.http.subscribe`, taken once the body is valid), and the answer
is the same 202 for every valid request (new, pending, confirmed, suppressed or throttled
address), so the endpoint cannot be used to probe addresses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field

from app.db import session_scope
from app.http import NowDep, SessionDep, StateDep, SubscribeDep
from app.models import Subscriber
from app.models.statuses import SubscriberStatus
from app.subscribers.queries import visible_topic_refs
from app.subscribers.service import apply_profile
from app.subscribers.validation import (
    MAX_AUTHORS,
    MAX_KEYWORDS,
    MAX_TOPICS,
    InvalidInput,
    normalize_email,
    parse_authors,
    parse_interest,
    parse_keywords,
)

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
    keywords: Annotated[
        list[str],
        Field(
            default_factory=list, max_length=MAX_KEYWORDS, description="Keywords; any form of a word counts."
        ),
    ]
    interest: Annotated[
        str | None, Field(None, max_length=500, description="What the subscriber reads about, in a sentence.")
    ]
    authors: Annotated[
        list[str], Field(default_factory=list, max_length=MAX_AUTHORS, description="Author names to follow.")
    ]
    exclude: Annotated[
        list[str],
        Field(
            default_factory=list, max_length=MAX_KEYWORDS, description="Papers mentioning these are left out."
        ),
    ]


class SubscriptionAccepted(BaseModel):
    status: str = Field("accepted", examples=["accepted"])
    message: str = Field(ACCEPTED_MESSAGE)


@router.post("/subscriptions", status_code=202, response_model=SubscriptionAccepted)
def create_subscription(
    body: SubscriptionRequest, session: SessionDep, subscriptions: SubscribeDep, state: StateDep, now: NowDep
) -> SubscriptionAccepted:
    """Start a subscription: a confirmation email goes to the address (double opt-in).

    Keywords, interest, authors and exclusions apply to a new or still unconfirmed address only:
    a confirmed subscriber's preferences change through their own signed link, never here."""
    try:
        email = normalize_email(body.email)
        profile = {
            "keywords": ", ".join(parse_keywords(", ".join(body.keywords))) if body.keywords else None,
            "interest": parse_interest(body.interest) if body.interest else None,
            "authors": "; ".join(parse_authors("; ".join(body.authors))) if body.authors else None,
            "exclude": ", ".join(parse_keywords(", ".join(body.exclude), "exclude"))
            if body.exclude
            else None,
        }
    except InvalidInput as exc:
        raise HTTPException(422, exc.message) from None
    if refusal := subscriptions.address_refusal(email):
        raise HTTPException(422, refusal)
    refs = [t.strip() for t in body.topics if t.strip()]
    topic_ids: list[int] = []
    if refs:
        by_ref = visible_topic_refs(session)
        unknown = [r for r in refs if r not in by_ref]
        if unknown:
            raise HTTPException(422, f"Unknown topic: {unknown[0][:80]} (see GET /api/v1/topics).")
        topic_ids = sorted({by_ref[r] for r in refs})
    session.close()  # the subscription runs in its own transactions (the email is sent after commit)
    submitted = subscriptions.submit(email=email, topic_ids=topic_ids, source="api")
    target = submitted.result.subscriber
    if target is not None and any(v is not None for v in profile.values()):
        with session_scope(state.session_factory) as own:
            subscriber = own.get(Subscriber, target.id)
            if subscriber is not None and subscriber.status == SubscriberStatus.PENDING:
                apply_profile(own, subscriber, now=now, **profile)
    return SubscriptionAccepted()
