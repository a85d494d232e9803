"""Claiming outbox rows with leases, and giving back the claims of workers that stopped.

A claim turns due `queued`/`deferred` rows into `sending` with a lease in one UPDATE (FOR
UPDATE SKIP LOCKED on PostgreSQL), so several workers share the outbox without sending a row
twice. Rows whose subscriber or address may no longer be mailed become `skipped` at claim
time. A lease that runs out means its worker died: the row goes back to the queue.

While a worker sends, a `LeaseKeeper` thread extends the leases of its unsent rows every third
of the lease, so a slow relay never lets a lease run out under a live worker. When an extension
finds a row no longer held (the worker was frozen past its lease and another took the row), the
keeper says so and the worker stops sending that chunk.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import dialect_name, session_scope
from app.mail.policy import DeliveryPolicy
from app.models import Delivery, Subscriber, Suppression
from app.models.digest import DeliveryContent
from app.models.statuses import DeliveryStatus, SubscriberStatus

RETRYABLE = DeliveryStatus.retryable()
log = logging.getLogger("papertrend.mail")


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
    """Claims whose lease ran out go back to the queue; stale unsent rows expire.

    Each change is one conditional UPDATE, so two workers recovering at once, or a worker
    claiming a row another is recovering, never undo each other's work (PostgreSQL re-checks
    the conditions once the row lock is granted).
    """
    expired_lease = (Delivery.status == DeliveryStatus.SENDING, Delivery.lease_until < now)
    gave_up = _update(
        session,
        (*expired_lease, Delivery.attempts >= policy.max_attempts),
        status=DeliveryStatus.FAILED,
        lease_owner=None,
        lease_until=None,
        last_error="gave up after too many attempts with unknown outcome",
    )
    requeued = _update(
        session,
        expired_lease,
        status=DeliveryStatus.QUEUED,
        lease_owner=None,
        lease_until=None,
        next_attempt_at=now,
        last_error="recovered after the sending worker stopped; the message may arrive twice",
    )
    stale = _update(
        session,
        (Delivery.status.in_(RETRYABLE), Delivery.stale_after < now),
        status=DeliveryStatus.EXPIRED,
        last_error=func.coalesce(Delivery.last_error, "")
        + " | expired: not delivered before the staleness deadline",
    )
    session.flush()
    return len(gave_up) + len(requeued), len(stale)


def _update(session: Session, where: Iterable[ColumnElement[bool]], **values: Any) -> list[int]:
    """One conditional UPDATE of outbox rows; the ids of the rows it changed.

    A single statement, so a row that changed under another worker no longer matches `where`.
    """
    stmt = (
        update(Delivery)
        .where(*where)
        .values(**values)
        .returning(Delivery.id)
        .execution_options(synchronize_session=False)
    )
    return list(session.execute(stmt).scalars())


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
    ids = _update(
        session,
        (Delivery.id.in_(pick.scalar_subquery()), Delivery.status.in_(RETRYABLE)),
        status=DeliveryStatus.SENDING,
        lease_owner=owner,
        lease_until=now + timedelta(seconds=policy.lease_seconds),
        attempts=Delivery.attempts + 1,
    )
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


def renew(
    session: Session, *, owner: str, ids: Iterable[int], now: datetime, policy: DeliveryPolicy
) -> set[int]:
    """Extend `owner`'s leases on `ids`; returns the ids it still holds (the others were lost)."""
    wanted = list(ids)
    if not wanted:
        return set()
    held = _update(
        session,
        (Delivery.id.in_(wanted), Delivery.lease_owner == owner, Delivery.status == DeliveryStatus.SENDING),
        lease_until=now + timedelta(seconds=policy.lease_seconds),
    )
    return set(held)


class LeaseKeeper:
    """A thread that keeps extending one worker's leases on the rows it has not recorded yet.

    Use as a context manager around sending a claimed batch; call `done(id)` just before a row's
    result is recorded (afterwards the row has no lease, which must not read as a lost one).
    `lost` is set when an extension finds a row no longer held by this worker.
    """

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        owner: str,
        ids: Iterable[int],
        policy: DeliveryPolicy,
        now: Callable[[], datetime],
    ) -> None:
        self._factory = factory
        self._owner = owner
        self._pending = set(ids)
        self._policy = policy
        self._now = now
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self.lost = threading.Event()
        self.renewals = 0
        self._thread = threading.Thread(target=self._run, name="lease-keeper", daemon=True)

    def __enter__(self) -> LeaseKeeper:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def done(self, delivery_id: int) -> None:
        with self._lock:
            self._pending.discard(delivery_id)

    def _run(self) -> None:
        while not self._stop.wait(self._policy.renew_every_s):
            with self._lock:
                pending = set(self._pending)
            if not pending:
                continue
            try:
                with session_scope(self._factory) as session:
                    held = renew(
                        session, owner=self._owner, ids=pending, now=self._now(), policy=self._policy
                    )
            except Exception as exc:  # the next extension tries again; the lease still has two thirds left
                log.warning("could not extend mail leases: %s: %s", type(exc).__name__, exc)
                continue
            self.renewals += 1
            with self._lock:
                gone = (pending - held) & self._pending  # rows recorded meanwhile are not lost
            if gone:
                log.warning("lost the lease on %d emails; stopping this chunk", len(gone))
                self.lost.set()
                return
