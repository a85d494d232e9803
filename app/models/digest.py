"""Digests (what a subscriber gets for one period) and their deliveries (the outbox)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JSONType
from app.models._common import UTCDateTime, utcnow
from app.models.statuses import DeliveryStatus


class Digest(Base):
    """One per (subscriber, period): rebuilding a digest can never create a second email."""

    __tablename__ = "digests"
    __table_args__ = (UniqueConstraint("subscriber_id", "period"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(32))  # "2026-11-27" (daily) or "2026-W48" (weekly)
    frequency: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(16), default="digest")  # digest | quiet (no papers today)
    subject: Mapped[str] = mapped_column(String(300))
    item_count: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DigestItem(Base):
    """A paper in a digest, with its rank and the one-line reason it was chosen."""

    __tablename__ = "digest_items"
    __table_args__ = (Index("ix_digest_items_paper", "paper_id"),)

    digest_id: Mapped[int] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer)
    score: Mapped[float] = mapped_column(Float)
    reason: Mapped[str] = mapped_column(String(300))
    section: Mapped[str] = mapped_column(String(16), default="for_you")  # for_you | trending


class Delivery(Base):
    """The outbox row of one email. Claimed with a lease so several workers can share sending."""

    __tablename__ = "deliveries"
    __table_args__ = (Index("ix_deliveries_status_next", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    digest_id: Mapped[int | None] = mapped_column(ForeignKey("digests.id", ondelete="CASCADE"), unique=True)
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16), default="digest")  # digest | confirm
    recipient: Mapped[str] = mapped_column(String(320))
    message_id: Mapped[str] = mapped_column(String(300), unique=True)  # stable across retries
    subject: Mapped[str] = mapped_column(String(300))
    # queued | sending | sent | deferred | failed | expired | skipped
    status: Mapped[str] = mapped_column(String(16), default=DeliveryStatus.QUEUED)  # see DeliveryStatus
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    stale_after: Mapped[datetime | None] = mapped_column(UTCDateTime)
    lease_owner: Mapped[str | None] = mapped_column(String(100))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    smtp_reply: Mapped[str | None] = mapped_column(Text)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DeliveryContent(Base):
    """The fixed content of one email, apart from its frequently updated Delivery row.

    Kept in its own table because SQLite rewrites a whole row on every update: status changes
    of a row carrying a 30 KB body would write the body again each time.
    """

    __tablename__ = "delivery_contents"

    delivery_id: Mapped[int] = mapped_column(
        ForeignKey("deliveries.id", ondelete="CASCADE"), primary_key=True
    )
    body_text: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    # Extra headers fixed at enqueue time (List-Unsubscribe, List-Id, ...): identical on every retry.
    headers: Mapped[dict[str, str]] = mapped_column(JSONType, default=dict)


class MailAlert(Base):
    """An operator alert from the mail system (sending paused, global cap hit). Open until resolved."""

    __tablename__ = "mail_alerts"
    __table_args__ = (Index("ix_mail_alerts_open", "kind", "resolved_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # paused | subscribe_cap
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
