"""Reads of the outbox for the operator and the subscriber (no business rules here).

Claiming rows for sending lives in `app.mail.leases`; the /admin overview in `app.mail.overview`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.mail.pause import open_pause
from app.models import Delivery, Digest
from app.models.digest import DeliveryContent
from app.models.statuses import DeliveryStatus


def outbox_counts(session: Session, now: datetime) -> dict[str, int]:
    """For `digest send --dry-run`: rows due now, rows waiting for a retry, and whether sending is paused."""
    due = select(func.count()).where(
        Delivery.status.in_(DeliveryStatus.retryable()), Delivery.next_attempt_at <= now
    )
    later = select(func.count()).where(
        Delivery.status.in_(DeliveryStatus.retryable()), Delivery.next_attempt_at > now
    )
    return {
        "due": int(session.scalar(due) or 0),
        "later": int(session.scalar(later) or 0),
        "paused": int(open_pause(session) is not None),
    }


def mailed_digest_html(session: Session, subscriber_id: int, period: str) -> str | None:
    """The HTML of the subscriber's digest of `period` exactly as it was mailed (None: not mailed)."""
    html: str | None = session.scalar(
        select(DeliveryContent.body_html)
        .join(Delivery, Delivery.id == DeliveryContent.delivery_id)
        .join(Digest, Digest.id == Delivery.digest_id)
        .where(Digest.subscriber_id == subscriber_id, Digest.period == period[:32])
    )
    return html


def due_confirmation_ids(session: Session, now: datetime, limit: int) -> list[int]:
    """Queued or deferred confirmation emails that are due now, oldest first."""
    stmt = (
        select(Delivery.id)
        .where(
            Delivery.kind == "confirm",
            Delivery.status.in_(DeliveryStatus.retryable()),
            Delivery.next_attempt_at <= now,
        )
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def last_delivery_id(session: Session) -> int:
    """The highest outbox id so far (0 when empty): rows above it were added after this read."""
    return int(session.scalar(select(func.max(Delivery.id))) or 0)


def queued_after(session: Session, after_id: int) -> list[int]:
    """Ids of the queued outbox rows added after `after_id`, in order (a digest build's new rows)."""
    stmt = (
        select(Delivery.id)
        .where(Delivery.id > after_id, Delivery.status == DeliveryStatus.QUEUED)
        .order_by(Delivery.id)
    )
    return list(session.scalars(stmt))


def due_count(session: Session, now: datetime) -> int:
    """Outbox rows that may be sent now."""
    stmt = select(func.count()).where(
        Delivery.status.in_(DeliveryStatus.retryable()), Delivery.next_attempt_at <= now
    )
    return int(session.scalar(stmt) or 0)
