"""Reads and small writes of subscriber rows (no business rules here)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import cast

from sqlalchemy import Table, delete, func, select, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.models import Delivery, Feedback, Paper, Subscriber, SubscriberTopic, Suppression, Topic
from app.models.security import UsedFormToken
from app.models.statuses import DeliveryStatus, TopicStatus
from app.models.subscriber import SubscribeAttempt, SubscriberEvent


def by_email(session: Session, email: str) -> Subscriber | None:
    return session.scalars(select(Subscriber).where(Subscriber.email == email)).one_or_none()


def is_suppressed(session: Session, email: str) -> bool:
    return session.get(Suppression, email) is not None


def topic_ids(session: Session, subscriber_id: int) -> list[int]:
    rows = session.scalars(
        select(SubscriberTopic.topic_id).where(SubscriberTopic.subscriber_id == subscriber_id)
    )
    return sorted(rows)


def set_topics(session: Session, subscriber_id: int, ids: Iterable[int]) -> None:
    session.execute(delete(SubscriberTopic).where(SubscriberTopic.subscriber_id == subscriber_id))
    session.add_all(SubscriberTopic(subscriber_id=subscriber_id, topic_id=t) for t in sorted(set(ids)))
    session.flush()


def existing_topic_ids(session: Session, ids: Iterable[int]) -> set[int]:
    wanted = set(ids)
    if not wanted:
        return set()
    return set(session.scalars(select(Topic.id).where(Topic.id.in_(wanted))))


def selectable_topics(session: Session) -> list[Topic]:
    """Topics a subscriber can choose: visible and not merged away, biggest first."""
    stmt = (
        select(Topic)
        .where(Topic.hidden.is_(False), Topic.status != TopicStatus.MERGED)
        .order_by(Topic.pinned.desc(), Topic.size.desc(), Topic.label)
    )
    return list(session.scalars(stmt))


def add_event(session: Session, subscriber_id: int, event: str, now: datetime, **detail: object) -> None:
    session.add(SubscriberEvent(subscriber_id=subscriber_id, kind=event, detail=dict(detail), created_at=now))


def count_events(session: Session, subscriber_id: int, kind: str) -> int:
    stmt = select(func.count()).where(
        SubscriberEvent.subscriber_id == subscriber_id, SubscriberEvent.kind == kind
    )
    return int(session.scalar(stmt) or 0)


# Any constant works: it names the one lock that subscribe decisions take on PostgreSQL.
SUBSCRIBE_LOCK_KEY = 0x7061_7065_7274


def lock_subscribe_decisions(session: Session) -> None:
    """Serialise subscribe decisions until the transaction ends (commit or rollback).

    PostgreSQL: a transaction-level advisory lock, so two requests never read the same
    counts (cooldown, daily cap, per-IP and global limits) before either writes. SQLite: a
    write that changes nothing, which takes the database's write lock now rather than at
    the first insert, and with it a snapshot no other writer can move.
    """
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SUBSCRIBE_LOCK_KEY})
    else:
        session.execute(text("UPDATE subscribers SET id = id WHERE 1 = 0"))


def attempts_from_ip(session: Session, ip_hash: str, since: datetime) -> int:
    stmt = select(func.count()).where(
        SubscribeAttempt.ip_hash == ip_hash, SubscribeAttempt.created_at >= since
    )
    return int(session.scalar(stmt) or 0)


def confirmations_since(session: Session, since: datetime, subscriber_id: int | None = None) -> int:
    stmt = select(func.count()).where(Delivery.kind == "confirm", Delivery.created_at >= since)
    if subscriber_id is not None:
        stmt = stmt.where(Delivery.subscriber_id == subscriber_id)
    return int(session.scalar(stmt) or 0)


def feedback_rows(session: Session, subscriber_id: int) -> list[Feedback]:
    stmt = select(Feedback).where(Feedback.subscriber_id == subscriber_id).order_by(Feedback.id)
    return list(session.scalars(stmt))


def papers_by_arxiv_ids(session: Session, arxiv_ids: Iterable[str]) -> dict[str, Paper]:
    ids = list(arxiv_ids)
    if not ids:
        return {}
    return {p.arxiv_id or "": p for p in session.scalars(select(Paper).where(Paper.arxiv_id.in_(ids)))}


def cancel_queued_digests(session: Session, subscriber_id: int, reason: str) -> int:
    """Queued or deferred digest emails of someone who left are skipped, not sent."""
    rows = session.scalars(
        select(Delivery).where(
            Delivery.subscriber_id == subscriber_id,
            Delivery.kind == "digest",
            Delivery.status.in_(DeliveryStatus.retryable()),
        )
    ).all()
    for row in rows:
        row.status = DeliveryStatus.SKIPPED
        row.last_error = reason
    return len(rows)


def topics_by_ids(session: Session, ids: Iterable[int]) -> list[Topic]:
    wanted = set(ids)
    return list(session.scalars(select(Topic).where(Topic.id.in_(wanted)))) if wanted else []


def visible_topic_refs(session: Session) -> dict[str, int]:
    """Topic id by slug and by the id written out, for every topic not hidden (the API takes both)."""
    rows = session.execute(select(Topic.id, Topic.slug).where(Topic.hidden.is_(False))).all()
    return {slug: topic_id for topic_id, slug in rows} | {str(topic_id): topic_id for topic_id, _ in rows}


def use_form_token(session: Session, token_hash: str, now: datetime, expires_at: datetime) -> bool:
    """Mark a single-use token used; False when it was used before (one of two racing uses wins)."""
    session.execute(delete(UsedFormToken).where(UsedFormToken.expires_at < now))
    table = cast(Table, UsedFormToken.__table__)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert(table) if dialect == "postgresql" else sqlite.insert(table)
    stmt = (
        insert.values(token_hash=token_hash, expires_at=expires_at)
        .on_conflict_do_nothing()
        .returning(table.c.token_hash)
    )
    return session.execute(stmt).first() is not None
