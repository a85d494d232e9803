"""Subscribing, confirming, unsubscribing, preferences and data requests.

Services take the session and never commit. Sending the confirmation email is the
caller's job (the mail layer): `subscribe` only decides whether one may be sent.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.models import Delivery, Feedback, Paper, Subscriber, SubscriberInterest, Topic
from app.models.statuses import SubscribeOutcome, SubscriberStatus
from app.models.subscriber import SubscribeAttempt, SubscriberEvent, new_link_key
from app.security.strength import secret_equals
from app.subscribers import queries
from app.subscribers.tokens import InvalidToken, LinkClaims, TokenSigner
from app.subscribers.validation import (
    NamedInterestInput,
    Preferences,
    parse_authors,
    parse_interest,
    parse_keywords,
)

if TYPE_CHECKING:
    from app.config import Settings


@dataclass(frozen=True)
class SubscribeLimits:
    """Protection against subscription bombing (see docs: cooldown, per-IP, global, daily cap)."""

    cooldown_minutes: int = 10
    ip_per_hour: int = 10
    global_per_hour: int = 500
    per_address_per_day: int = 3

    @classmethod
    def from_settings(cls, settings: Settings) -> SubscribeLimits:
        return cls(
            cooldown_minutes=settings.subscribe_cooldown_minutes,
            ip_per_hour=settings.subscribe_ip_limit,
            global_per_hour=settings.subscribe_global_limit,
            per_address_per_day=settings.subscribe_address_daily_limit,
        )


@dataclass
class SubscribeResult:
    """What happened, for logs and tests only: the HTTP response is the same for every outcome."""

    outcome: SubscribeOutcome
    subscriber: Subscriber | None = None

    @property
    def should_send(self) -> bool:
        return self.outcome == SubscribeOutcome.SEND


def subscribe(
    session: Session,
    *,
    email: str,
    topic_ids: list[int],
    ip: str,
    now: datetime,
    signer: TokenSigner,
    limits: SubscribeLimits,
    source: str = "web",
    honeypot: bool = False,
) -> SubscribeResult:
    """Record a subscribe request for a normalized address and decide whether to mail a confirmation.

    Limits are applied to the submitted address and IP whatever the address's state, so
    the outcome cannot be told apart from outside.

    The checks and the writes they allow are one atomic step: the decision first takes the
    subscribe lock of the database (`queries.lock_subscribe_decisions`), so parallel requests
    are decided one after the other and each sees what the one before wrote (the cooldown, the
    daily cap, the per-IP and global counts). `ip` is the client's limit key (an IPv6 client
    counts by its /64).
    """
    queries.lock_subscribe_decisions(session)
    ip_hash = signer.digest(ip or "unknown", "ip")
    email_hash = signer.digest(email, "email")
    result = _decide(session, email, topic_ids, ip_hash, now, limits, source, honeypot)
    session.add(
        SubscribeAttempt(ip_hash=ip_hash, email_hash=email_hash, outcome=result.outcome, created_at=now)
    )
    session.flush()
    return result


def _decide(
    session: Session,
    email: str,
    topic_ids: list[int],
    ip_hash: str,
    now: datetime,
    limits: SubscribeLimits,
    source: str,
    honeypot: bool,
) -> SubscribeResult:
    if honeypot:
        return SubscribeResult(SubscribeOutcome.HONEYPOT)
    if queries.attempts_from_ip(session, ip_hash, now - timedelta(hours=1)) >= limits.ip_per_hour:
        return SubscribeResult(SubscribeOutcome.IP_LIMIT)
    if queries.is_suppressed(session, email):
        return SubscribeResult(SubscribeOutcome.SUPPRESSED)
    subscriber = queries.by_email(session, email)
    if subscriber is not None and subscriber.status == SubscriberStatus.CONFIRMED:
        return SubscribeResult(SubscribeOutcome.CONFIRMED, subscriber)
    valid_topics = sorted(queries.existing_topic_ids(session, topic_ids))
    if subscriber is None:
        subscriber = _create_pending(session, email, now, source)
        if subscriber.status == SubscriberStatus.CONFIRMED:
            return SubscribeResult(SubscribeOutcome.CONFIRMED, subscriber)
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        # Coming back needs a fresh opt-in; old confirmation links stay dead.
        subscriber.status = SubscriberStatus.PENDING
        subscriber.token_version += 1
        queries.add_event(session, subscriber.id, "resubscribe_requested", now, source=source)
    if valid_topics:
        queries.set_topics(session, subscriber.id, valid_topics)
    if subscriber.confirm_sent_at and now - subscriber.confirm_sent_at < timedelta(
        minutes=limits.cooldown_minutes
    ):
        return SubscribeResult(SubscribeOutcome.COOLDOWN, subscriber)
    if (
        queries.confirmations_since(session, now - timedelta(days=1), subscriber.id)
        >= limits.per_address_per_day
    ):
        return SubscribeResult(SubscribeOutcome.DAILY_CAP, subscriber)
    if queries.confirmations_since(session, now - timedelta(hours=1)) >= limits.global_per_hour:
        return SubscribeResult(SubscribeOutcome.GLOBAL_LIMIT, subscriber)
    subscriber.confirm_sent_at = now
    return SubscribeResult(SubscribeOutcome.SEND, subscriber)


def _create_pending(session: Session, email: str, now: datetime, source: str) -> Subscriber:
    """A new pending subscriber; when another writer created the address first, that row.

    The subscribe lock makes this race rare (a row written by another path, such as an
    import), but a lost insert race is the normal answer, never a server error.
    """
    subscriber = Subscriber(
        email=email,
        status=SubscriberStatus.PENDING,
        source=source,
        link_key=new_link_key(),
        created_at=now,
    )
    try:
        with session.begin_nested():
            session.add(subscriber)
            session.flush()
    except IntegrityError:
        existing = queries.by_email(session, email)
        if existing is None:  # not a duplicate address: a real fault
            raise
        return existing
    queries.add_event(session, subscriber.id, "subscribed", now, source=source)
    return subscriber


# Signed links ---------------------------------------------------------------------------


def _load(session: Session, claims: LinkClaims) -> Subscriber:
    subscriber = session.get(Subscriber, claims.subscriber_id)
    if subscriber is None or not secret_equals(subscriber.link_key, claims.link_key):
        raise InvalidToken("no such subscriber")
    return subscriber


def pending_for_confirm_token(session: Session, signer: TokenSigner, token: str, now: datetime) -> Subscriber:
    """The pending subscriber a confirmation link is for; changes nothing (GET is safe)."""
    claims = signer.read_confirm(token, now_ts=now.timestamp())
    subscriber = _load(session, claims)
    if subscriber.status != SubscriberStatus.PENDING or subscriber.token_version != claims.version:
        raise InvalidToken("link already used")
    return subscriber


def confirm(session: Session, signer: TokenSigner, token: str, now: datetime) -> Subscriber:
    """Confirm a pending subscriber; the link works once and for 72 hours."""
    subscriber = pending_for_confirm_token(session, signer, token, now)
    if queries.is_suppressed(session, subscriber.email):
        raise InvalidToken("address suppressed")
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.confirmed_at = now
    subscriber.unsubscribed_at = None
    subscriber.token_version += 1
    queries.add_event(session, subscriber.id, "confirmed", now)
    session.flush()
    return subscriber


def from_unsubscribe_token(session: Session, signer: TokenSigner, token: str) -> Subscriber:
    return _load(session, signer.read_unsubscribe(token))


def from_preferences_token(session: Session, signer: TokenSigner, token: str) -> Subscriber:
    return _load(session, signer.read_preferences(token))


def from_feedback_token(session: Session, signer: TokenSigner, token: str) -> tuple[Subscriber, LinkClaims]:
    claims = signer.read_feedback(token)
    return _load(session, claims), claims


# State changes --------------------------------------------------------------------------


def unsubscribe(session: Session, subscriber: Subscriber, now: datetime, *, via: str) -> bool:
    """Stop all digests, including ones already queued. Returns False when already unsubscribed."""
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return False
    subscriber.status = SubscriberStatus.UNSUBSCRIBED
    subscriber.unsubscribed_at = now
    subscriber.token_version += 1
    skipped = queries.cancel_queued_digests(session, subscriber.id, f"unsubscribed ({via})")
    queries.add_event(session, subscriber.id, "unsubscribed", now, via=via, skipped_queued=skipped)
    session.flush()
    return True


def resubscribe(session: Session, subscriber: Subscriber, now: datetime) -> bool:
    """Undo an unsubscribe from the page that confirmed it (the address was confirmed before)."""
    if subscriber.status != SubscriberStatus.UNSUBSCRIBED or subscriber.confirmed_at is None:
        return False
    if queries.is_suppressed(session, subscriber.email):
        return False
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.unsubscribed_at = None
    queries.add_event(session, subscriber.id, "resubscribed", now)
    session.flush()
    return True


def update_preferences(
    session: Session, subscriber: Subscriber, prefs: Preferences, now: datetime
) -> list[str]:
    """Apply a validated preference form. Returns the seed references that matched no paper."""
    topics = sorted(queries.existing_topic_ids(session, prefs.topic_ids))
    queries.set_topics(session, subscriber.id, topics)
    subscriber.keywords = list(prefs.keywords)
    if (prefs.interest_text or None) != (subscriber.interest_text or None):
        # The vector is recomputed by the next digest build (or right away when an encoder is at hand).
        subscriber.interest_text = prefs.interest_text
        subscriber.interest_vector = None
        subscriber.interest_model = None
    subscriber.frequency = prefs.frequency
    subscriber.send_hour = prefs.send_hour
    subscriber.timezone = prefs.timezone
    subscriber.max_papers = prefs.max_papers
    subscriber.include_trending = prefs.include_trending
    subscriber.include_likely = prefs.include_likely
    subscriber.authors = list(prefs.authors)
    subscriber.exclude_keywords = list(prefs.exclude)
    subscriber.quiet_note = prefs.quiet_note
    set_named_interests(session, subscriber, prefs.interests)
    papers = queries.papers_by_arxiv_ids(session, prefs.seed_paper_refs)
    for row in queries.feedback_rows(session, subscriber.id):
        if row.kind == "seed":
            session.delete(row)
    session.flush()
    for ref in prefs.seed_paper_refs:
        if ref in papers:
            session.add(
                Feedback(subscriber_id=subscriber.id, kind="seed", paper_id=papers[ref].id, created_at=now)
            )
    queries.add_event(session, subscriber.id, "preferences", now)
    session.flush()
    return [ref for ref in prefs.seed_paper_refs if ref not in papers]


def set_named_interests(session: Session, subscriber: Subscriber, wanted: list[NamedInterestInput]) -> None:
    """Replace the named interests; an unchanged description keeps its computed vector."""
    old = {row.name.lower(): row for row in named_interests(session, subscriber)}
    for row in old.values():
        session.delete(row)
    session.flush()
    for position, item in enumerate(wanted):
        before = old.get(item.name.lower())
        same = before is not None and before.interest_text == item.text
        session.add(
            SubscriberInterest(
                subscriber_id=subscriber.id,
                position=position,
                name=item.name,
                keywords=list(item.keywords),
                interest_text=item.text,
                interest_vector=before.interest_vector if same and before else None,
                interest_model=before.interest_model if same and before else None,
            )
        )
    session.flush()


def named_interests(session: Session, subscriber: Subscriber) -> list[SubscriberInterest]:
    stmt = (
        select(SubscriberInterest)
        .where(SubscriberInterest.subscriber_id == subscriber.id)
        .order_by(SubscriberInterest.position, SubscriberInterest.id)
    )
    return list(session.scalars(stmt))


def apply_profile(
    session: Session,
    subscriber: Subscriber,
    *,
    keywords: str | None,
    interest: str | None,
    authors: str | None,
    exclude: str | None,
    now: datetime,
) -> None:
    """Set profile columns of an import row (None: the column is absent, the value is kept).

    Raises `InvalidInput` (one line, naming the field) before changing anything.
    """
    parsed_keywords = parse_keywords(keywords) if keywords is not None else None
    parsed_exclude = parse_keywords(exclude, "exclude") if exclude is not None else None
    parsed_authors = parse_authors(authors) if authors is not None else None
    parsed_interest = parse_interest(interest) if interest is not None else None
    if parsed_keywords is not None:
        subscriber.keywords = parsed_keywords
    if parsed_exclude is not None:
        subscriber.exclude_keywords = parsed_exclude
    if parsed_authors is not None:
        subscriber.authors = parsed_authors
    if interest is not None and parsed_interest != subscriber.interest_text:
        subscriber.interest_text = parsed_interest
        subscriber.interest_vector = None  # computed by the next digest build
        subscriber.interest_model = None
    queries.add_event(session, subscriber.id, "preferences", now, via="import")
    session.flush()


def reset_learned(session: Session, subscriber: Subscriber, now: datetime) -> int:
    """Forget what "more/less like this" taught the digest (seed papers and mutes stay). Returns the count."""
    rows = [r for r in queries.feedback_rows(session, subscriber.id) if r.kind in ("more", "less")]
    for row in rows:
        session.delete(row)
    queries.add_event(session, subscriber.id, "learned_reset", now, forgotten=len(rows))
    session.flush()
    return len(rows)


def set_interest_vector(subscriber: Subscriber, vector: bytes, model: str) -> None:
    subscriber.interest_vector = vector
    subscriber.interest_model = model


def current_preferences(session: Session, subscriber: Subscriber) -> Preferences:
    seeds = [
        p.arxiv_id or ""
        for p in session.scalars(
            select(Paper)
            .join(Feedback, Feedback.paper_id == Paper.id)
            .where(Feedback.subscriber_id == subscriber.id, Feedback.kind == "seed")
            .order_by(Feedback.id)
        )
    ]
    return Preferences(
        topic_ids=queries.topic_ids(session, subscriber.id),
        keywords=list(subscriber.keywords or []),
        interest_text=subscriber.interest_text,
        frequency=subscriber.frequency,
        send_hour=subscriber.send_hour,
        timezone=subscriber.timezone,
        max_papers=subscriber.max_papers,
        include_trending=subscriber.include_trending,
        include_likely=subscriber.include_likely,
        seed_paper_refs=[s for s in seeds if s],
        authors=list(subscriber.authors or []),
        exclude=list(subscriber.exclude_keywords or []),
        quiet_note=subscriber.quiet_note,
        interests=[
            NamedInterestInput(row.name, list(row.keywords or []), row.interest_text)
            for row in named_interests(session, subscriber)
        ],
    )


# Feedback from email links ------------------------------------------------------------------

_OPPOSITE = {"more": "less", "less": "more"}


def describe_feedback_target(session: Session, kind: str, target_id: int) -> Paper | Topic | None:
    return session.get(Topic, target_id) if kind == "mute" else session.get(Paper, target_id)


def apply_feedback(
    session: Session, subscriber: Subscriber, kind: str, target_id: int, now: datetime
) -> bool:
    """Record more/less/mute. Idempotent; "more" replaces an earlier "less" on the same paper."""
    column = Feedback.topic_id if kind == "mute" else Feedback.paper_id
    rows = session.scalars(
        select(Feedback).where(Feedback.subscriber_id == subscriber.id, column == target_id)
    ).all()
    if any(r.kind == kind for r in rows):
        return False
    for row in rows:
        if row.kind == _OPPOSITE.get(kind):
            session.delete(row)
    target = {"topic_id": target_id} if kind == "mute" else {"paper_id": target_id}
    session.add(Feedback(subscriber_id=subscriber.id, kind=kind, created_at=now, **target))
    queries.add_event(session, subscriber.id, "feedback", now, kind=kind, target=target_id)
    session.flush()
    return True


def undo_feedback(session: Session, subscriber: Subscriber, kind: str, target_id: int, now: datetime) -> bool:
    column = Feedback.topic_id if kind == "mute" else Feedback.paper_id
    rows = session.scalars(
        select(Feedback).where(
            Feedback.subscriber_id == subscriber.id, Feedback.kind == kind, column == target_id
        )
    ).all()
    for row in rows:
        session.delete(row)
    if rows:
        queries.add_event(session, subscriber.id, "feedback_undone", now, kind=kind, target=target_id)
    session.flush()
    return bool(rows)


# Data requests ------------------------------------------------------------------------------


def export_data(session: Session, subscriber: Subscriber) -> dict[str, Any]:
    """Everything stored about one subscriber, as JSON-ready data."""
    topics = session.scalars(
        select(Topic).where(Topic.id.in_(queries.topic_ids(session, subscriber.id))).order_by(Topic.label)
    )
    feedback = queries.feedback_rows(session, subscriber.id)
    events = session.scalars(
        select(SubscriberEvent)
        .where(SubscriberEvent.subscriber_id == subscriber.id)
        .order_by(SubscriberEvent.id)
    )
    deliveries = session.scalars(
        select(Delivery).where(Delivery.subscriber_id == subscriber.id).order_by(Delivery.id)
    )

    def iso(value: datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "email": subscriber.email,
        "status": subscriber.status,
        "created_at": iso(subscriber.created_at),
        "confirmed_at": iso(subscriber.confirmed_at),
        "unsubscribed_at": iso(subscriber.unsubscribed_at),
        "last_digest_at": iso(subscriber.last_digest_at),
        "preferences": {
            "frequency": subscriber.frequency,
            "send_hour": subscriber.send_hour,
            "timezone": subscriber.timezone,
            "max_papers": subscriber.max_papers,
            "include_trending": subscriber.include_trending,
            "include_likely": subscriber.include_likely,
            "keywords": list(subscriber.keywords or []),
            "exclude_keywords": list(subscriber.exclude_keywords or []),
            "authors": list(subscriber.authors or []),
            "quiet_note": subscriber.quiet_note,
            "interest_text": subscriber.interest_text,
            "named_interests": [
                {"name": r.name, "keywords": list(r.keywords or []), "interest_text": r.interest_text}
                for r in named_interests(session, subscriber)
            ],
            "topics": [{"id": t.id, "slug": t.slug, "label": t.label} for t in topics],
        },
        "feedback": [
            {"kind": f.kind, "paper_id": f.paper_id, "topic_id": f.topic_id, "at": iso(f.created_at)}
            for f in feedback
        ],
        "events": [{"kind": e.kind, "detail": e.detail, "at": iso(e.created_at)} for e in events],
        "emails": [
            {
                "kind": d.kind,
                "subject": d.subject,
                "status": d.status,
                "message_id": d.message_id,
                "sent_at": iso(d.sent_at),
            }
            for d in deliveries
        ],
    }


def delete_subscriber(session: Session, subscriber: Subscriber) -> None:
    """Forget the subscriber: the row and everything hanging off it (foreign keys cascade)."""
    session.delete(subscriber)
    session.flush()
