"""Claiming outbox rows with leases, and giving back the claims of workers that stopped.

A claim turns due `queued`/`deferred` rows into `sending` with a lease in one UPDATE (FOR
UPDATE SKIP LOCKED on PostgreSQL), so several workers share the outbox without sending a row
twice. Rows whose subscriber or address may no longer be mailed become `skipped` at claim
time. A lease that runs out means its worker died: the row goes back to the queue.
"""

from __future__ import annotations

import os
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.db import dialect_name
from app.mail.policy import DeliveryPolicy
from app.models import Delivery, Subscriber, Suppression
from app.models.digest import DeliveryContent
from app.models.statuses import DeliveryStatus, SubscriberStatus

RETRYABLE = DeliveryStatus.retryable()


@dataclass
class Claimed:
    """A plain copy of a claimed row: safe to hand to a sending thread."""

    id: int
    subscriber_id: int
    kind: str
    recipient: str
    subject: str
    body_text: str
    body_html: str
    message_id: str
    headers: dict[str, str]
    attempts: int
    stale_after: datetime | None


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{threading.get_ident()}"


def recover_and_expire(session: Session, now: datetime, policy: DeliveryPolicy) -> tuple[int, int]:
    """Claims whose lease ran out go back to the queue; stale unsent rows expire."""
    lost = session.scalars(
        select(Delivery).where(Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now)
    ).all()
    for row in lost:
        row.lease_owner = row.lease_until = None
        if row.attempts >= policy.max_attempts:
            row.status = DeliveryStatus.FAILED
            row.last_error = f"gave up after {row.attempts} attempts with unknown outcome"
        else:
            row.status = DeliveryStatus.QUEUED
            row.next_attempt_at = now
            row.last_error = "recovered after the sending worker stopped; the message may arrive twice"
    stale = session.scalars(
        select(Delivery).where(Delivery.status.in_(RETRYABLE), Delivery.stale_after < now)
    ).all()
    for row in stale:
        row.status = DeliveryStatus.EXPIRED
        row.last_error = (row.last_error or "") + " | expired: not delivered before the staleness deadline"
    session.flush()
    return len(lost), len(stale)


def sent_since(session: Session, since: datetime) -> int:
    stmt = select(func.count()).where(Delivery.status == DeliveryStatus.SENT, Delivery.sent_at >= since)
    return int(session.scalar(stmt) or 0)


def due_exists(session: Session, now: datetime) -> bool:
    stmt = select(Delivery.id).where(Delivery.status.in_(RETRYABLE), Delivery.next_attempt_at <= now).limit(1)
    return session.scalar(stmt) is not None


def claim(
    session: Session,
    *,
    owner: str,
    now: datetime,
    limit: int,
    policy: DeliveryPolicy,
    only_ids: list[int] | None,
) -> tuple[list[Claimed], int]:
    """Lease up to `limit` due rows; rows that must not be sent any more become `skipped`."""
    pick = (
        select(Delivery.id)
        .where(Delivery.status.in_(RETRYABLE), Delivery.next_attempt_at <= now)
        .order_by(Delivery.next_attempt_at, Delivery.id)
        .limit(limit)
    )
    if only_ids is not None:
        pick = pick.where(Delivery.id.in_(only_ids))
    if dialect_name(session) == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    stmt = (
        update(Delivery)
        .where(Delivery.id.in_(pick.scalar_subquery()), Delivery.status.in_(RETRYABLE))
        .values(
            status=DeliveryStatus.SENDING,
            lease_owner=owner,
            lease_until=now + timedelta(seconds=policy.lease_seconds),
            attempts=Delivery.attempts + 1,
        )
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    ids = list(session.execute(stmt).scalars())
    if not ids:
        return [], 0
    rows = session.execute(
        select(Delivery, DeliveryContent, Subscriber.status, Suppression.email)
        .join(DeliveryContent, DeliveryContent.delivery_id == Delivery.id)
        .join(Subscriber, Subscriber.id == Delivery.subscriber_id)
        .outerjoin(Suppression, Suppression.email == Delivery.recipient)
        .where(Delivery.id.in_(ids))
        .order_by(Delivery.id)
    ).all()
    claimed: list[Claimed] = []
    skipped = 0
    for row, content, sub_status, suppressed in rows:
        reason = None
        if suppressed is not None:
            reason = "address is on the suppression list"
        elif row.kind == "digest" and sub_status != SubscriberStatus.CONFIRMED:
            reason = f"subscriber is {sub_status}"
        elif row.kind == "confirm" and sub_status != SubscriberStatus.PENDING:
            reason = f"subscriber is already {sub_status}"
        if reason:
            row.status, row.last_error, row.lease_owner, row.lease_until = (
                DeliveryStatus.SKIPPED,
                reason,
                None,
                None,
            )
            skipped += 1
            continue
        claimed.append(
            Claimed(
                id=row.id,
                subscriber_id=row.subscriber_id,
                kind=row.kind,
                recipient=row.recipient,
                subject=row.subject,
                body_text=content.body_text,
                body_html=content.body_html,
                message_id=row.message_id,
                headers=dict(content.headers or {}),
                attempts=row.attempts,
                stale_after=row.stale_after,
            )
        )
    session.flush()
    return claimed, skipped
