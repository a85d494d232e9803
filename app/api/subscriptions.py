"""`POST /api/v1/subscriptions`: the JSON way to subscribe, with the same protections as the form.

A client first takes a token from `GET /api/v1/subscriptions/token` (the form's hidden field,
for programs), then posts the address with it. Everything the form applies applies here, on
the one subscribe path (`app.http.subscribe`): the token is signed, expires and works once;
a filled honeypot field (`website`) or a post sooner than `min_seconds` after the token was
issued sends nothing; double opt-in by email, the per-address cooldown and daily cap, the
per-IP and global limits. The answer is the same 202 for every valid request (new, pending,
confirmed, suppressed, throttled or bot), so the endpoint cannot be used to probe addresses.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, Field

from app.http import SessionDep, SettingsDep, SubscribeDep
from app.subscribers.queries import visible_topic_refs
from app.subscribers.tokens import FORM_MAX_AGE_S, InvalidToken
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
BAD_TOKEN = (
    "Missing, expired or already used subscribe token: take a new one from GET /api/v1/subscriptions/token."
)


class SubscriptionToken(BaseModel):
    token: str = Field(description="Send it back as `token` with one subscription request; it works once.")
    min_seconds: float = Field(description="Wait at least this long before posting, or nothing is sent.")
    expires_in: int = Field(FORM_MAX_AGE_S, description="Seconds the token stays valid.")


class SubscriptionRequest(BaseModel):
    email: Annotated[str, Field(max_length=320, examples=["ada@example.org"])]
    topics: Annotated[
        list[Annotated[str, Field(max_length=200)]],
        Field(default_factory=list, max_length=MAX_TOPICS, description="Topic slugs (or ids)."),
    ]
    token: Annotated[str, Field(max_length=2_000, description="From GET /api/v1/subscriptions/token.")]
    website: Annotated[str, Field(max_length=2_000, description="Leave empty (people never fill it).")] = ""
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


@router.get("/subscriptions/token", response_model=SubscriptionToken)
def subscription_token(
    response: Response, settings: SettingsDep, subscriptions: SubscribeDep
) -> SubscriptionToken:
    """A single-use token for one `POST /api/v1/subscriptions`."""
    response.headers["Cache-Control"] = "no-store"
    return SubscriptionToken(token=subscriptions.new_token(), min_seconds=settings.subscribe_min_seconds)


@router.post("/subscriptions", status_code=202, response_model=SubscriptionAccepted)
def create_subscription(
    body: SubscriptionRequest, session: SessionDep, subscriptions: SubscribeDep
) -> SubscriptionAccepted:
    """Start a subscription: a confirmation email goes to the address (double opt-in).

    Keywords, interest, authors and exclusions apply to a new or still unconfirmed address only:
    a confirmed subscriber's preferences change through their own signed link, never here."""
    try:
        issued_at = subscriptions.check_token(body.token)
    except InvalidToken:
        raise HTTPException(403, BAD_TOKEN) from None
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
    session.close()  # the subscription runs in its own transactions
    try:
        subscriptions.submit(
            email=email,
            topic_ids=topic_ids,
            source="api",
            token=body.token,
            issued_at=issued_at,
            honeypot=body.website,
            profile={name: value for name, value in profile.items() if value is not None},
        )
    except InvalidToken:
        raise HTTPException(403, BAD_TOKEN) from None
    return SubscriptionAccepted()
