"""Subscribers, their preferences, feedback, and the suppression list."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JSONType
from app.models._common import UTCDateTime, utcnow


class Subscriber(Base):
    """An email address and what it wants. No account or password: signed links act for it."""

    __tablename__ = "subscribers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)  # stored lower-cased
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending|confirmed|unsubscribed
    frequency: Mapped[str] = mapped_column(String(16), default="daily")  # daily | weekly | paused
    send_hour: Mapped[int] = mapped_column(Integer, default=7)
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    max_papers: Mapped[int] = mapped_column(Integer, default=10)
    include_trending: Mapped[bool] = mapped_column(Boolean, default=True)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    interest_text: Mapped[str | None] = mapped_column(Text)
    interest_vector: Mapped[bytes | None] = mapped_column(LargeBinary)
    # Bumped on confirm/unsubscribe so older single-use links stop working.
    token_version: Mapped[int] = mapped_column(Integer, default=0)
    confirm_sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    unsubscribed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_digest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SubscriberTopic(Base):
    __tablename__ = "subscriber_topics"

    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), primary_key=True
    )
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True)


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


class Suppression(Base):
    """Addresses we must not mail: hard bounces, complaints, operator decisions."""

    __tablename__ = "suppressions"

    email: Mapped[str] = mapped_column(String(320), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # bounce | complaint | manual
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
