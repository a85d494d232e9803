"""Subscribers, their preferences, feedback, events, subscribe attempts and the suppression list."""

from __future__ import annotations

import secrets
from datetime import datetime
from typing import Any

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text, false
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JSONType
from app.models._common import UTCDateTime, utcnow
from app.models.statuses import SubscriberStatus


def new_link_key() -> str:
    """Random per-subscriber value carried by every signed link (a reused row id cannot inherit links)."""
    return secrets.token_urlsafe(9)


class Subscriber(Base):
    """An email address and what it wants. No account or password: signed links act for it."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    status: Mapped[str] = mapped_column(String(16), default=SubscriberStatus.PENDING)  # see SubscriberStatus
    frequency: Mapped[str] = mapped_column(String(16), default="daily")  # daily | weekly | paused
    send_hour: Mapped[int] = mapped_column(Integer, default=7)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    max_papers: Mapped[int] = mapped_column(Integer, default=10)
    include_trending: Mapped[bool] = mapped_column(Boolean, default=True)
    # A "likely to trend in your topics" section (early-trending predictions); off unless asked for.
    include_likely: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # A paper that mentions one of these (stemmed, as keywords are) never reaches the digest.
    exclude_keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Followed authors, by name as written on papers.
    authors: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # Mail a short note when new papers exist but none is relevant (else nothing is sent).
    quiet_note: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    interest_text: Mapped[str | None] = mapped_column(Text)
    interest_vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    # The model that produced interest_vector; a different model means the vector is recomputed.
    interest_model: Mapped[str | None] = mapped_column(String(200))
    # Bumped on confirm/unsubscribe so older single-use links stop working.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    link_key: Mapped[str] = mapped_column(String(24), default=new_link_key)
    source: Mapped[str] = mapped_column(String(16), default="web")  # web | api | cli
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SubscriberTopic(Base):
    __tablename__ = "subscriber_topics"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True)


class SubscriberInterest(Base):
    """A named interest of a subscriber: its own keywords and text, and its own digest section."""

    __tablename__ = "subscriber_interests"
    __table_args__ = (Index("ix_subscriber_interests_subscriber", "subscriber_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str] = mapped_column(String(80))
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    interest_text: Mapped[str | None] = mapped_column(Text)
    interest_vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    interest_model: Mapped[str | None] = mapped_column(String(200))


class Feedback(Base):
    """A subscriber's signal: more/less like a paper, mute a topic, or a seed paper."""

    __tablename__ = "feedback"
    __table_args__ = (Index("ix_feedback_subscriber", "subscriber_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))  # more | less | mute | seed
    paper_id: Mapped[int | None] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    topic_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubscriberEvent(Base):
    """Audit trail of one subscriber: subscribed, confirmed, unsubscribed, preferences, feedback."""

    __tablename__ = "subscriber_events"
    __table_args__ = (Index("ix_subscriber_events_subscriber", "subscriber_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(24))
    detail: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubscribeAttempt(Base):
    """One subscribe submission, kept for rate limits: hashes only, never the address or IP itself."""

    __tablename__ = "subscribe_attempts"
    __table_args__ = (
        Index("ix_subscribe_attempts_ip", "ip_hash", "created_at"),
        Index("ix_subscribe_attempts_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ip_hash: Mapped[str] = mapped_column(String(64))
    email_hash: Mapped[str] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(16))  # see SubscribeOutcome
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Suppression(Base):
    """Addresses we must not mail: hard bounces, complaints, operator decisions."""

    __tablename__ = "suppressions"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # bounce | complaint | manual
    reason: Mapped[str | None] = mapped_column(Text)
    source: Mapped[str] = mapped_column(String(16), default="manual")  # smtp | webhook | import | manual
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
