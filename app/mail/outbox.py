"""Putting emails in the outbox: digests after a build, confirmations after a subscribe.

A digest and its Delivery row are written in the same transaction; the Delivery is unique
per digest (and so per subscriber and period), and rows of suppressed addresses are never
queued (they are skipped again at send time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from app.db import dialect_name, session_scope
from app.digest.service import (
    BuildReport,
    BuiltDigest,
    DigestOptions,
    TextEncoder,
    VectorLoader,
    build_due_digests,
)
from app.mail.compose import MailSetup
from app.mail.delivery import DeliveryPolicy, send_now
from app.mail.senders import Sender, SendResult
from app.models import Delivery, Suppression
from app.subscribers.service import SubscribeLimits, SubscribeResult, subscribe


@dataclass
class QueueReport:
    build: BuildReport
    queued: int = 0
    render_seconds: float = 0.0

    def summary(self) -> str:
        return f"{self.build.summary()}; {self.queued} emails queued (render {self.render_seconds:.1f}s)"


def queue_digests(
    session: Session,
    setup: MailSetup,
    digests: list[BuiltDigest],
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Render built digests into outbox rows (one per digest; existing rows are left alone)."""
    if not digests:
        return 0
    emails = sorted({d.email for d in digests})
    suppressed = set(session.scalars(select(Suppression.email).where(Suppression.email.in_(emails))))
    rows = []
    for d in digests:
        if d.email not in suppressed:
            rows.append(setup.digest_row(d, now))
        if progress is not None:
            progress(1)
    stmt = (
        postgresql.insert(Delivery) if dialect_name(session) == "postgresql" else sqlite.insert(Delivery)
    ).on_conflict_do_nothing()
    queued = 0
    for start in range(0, len(rows), 500):
        chunk = rows[start : start + 500]
        result = session.execute(stmt.returning(Delivery.id), chunk)
        queued += len(result.all())
    session.flush()
    return queued


def build_and_queue(
    session: Session,
    setup: MailSetup,
    *,
    now: datetime,
    options: DigestOptions,
    encoder: TextEncoder | None = None,
    load_vectors: VectorLoader | None = None,
    only_subscriber_ids: list[int] | None = None,
    progress: Callable[[int], None] | None = None,
) -> QueueReport:
    """`digest build`: create the due digests and their outbox rows in the caller's transaction."""
    build = build_due_digests(
        session,
        now=now,
        options=options,
        encoder=encoder,
        load_vectors=load_vectors,
        only_subscriber_ids=only_subscriber_ids,
    )
    started = time.perf_counter()
    queued = queue_digests(session, setup, build.digests, now, progress)
    return QueueReport(build=build, queued=queued, render_seconds=time.perf_counter() - started)


def request_subscription(
    factory: sessionmaker[Session],
    setup: MailSetup,
    sender: Sender,
    *,
    email: str,
    topic_ids: list[int],
    ip: str,
    now: datetime,
    limits: SubscribeLimits,
    source: str = "web",
    honeypot: bool = False,
    policy: DeliveryPolicy = DeliveryPolicy(),
) -> tuple[SubscribeResult, SendResult | None]:
    """Record a subscribe request and, when allowed, mail the confirmation right away.

    The request and the outbox row are committed first; the send happens outside that
    transaction (a slow relay never holds a database lock) and a failed send stays in the
    outbox for the next delivery run.
    """
    with session_scope(factory) as session:
        result = subscribe(
            session,
            email=email,
            topic_ids=topic_ids,
            ip=ip,
            now=now,
            signer=setup.signer,
            limits=limits,
            source=source,
            honeypot=honeypot,
        )
        delivery_id = None
        if result.should_send and result.subscriber is not None:
            delivery = setup.confirmation_delivery(result.subscriber, now)
            session.add(delivery)
            session.flush()
            delivery_id = delivery.id
    if delivery_id is None:
        return result, None
    return result, send_now(factory, sender, setup, delivery_id, now=now, policy=policy)
