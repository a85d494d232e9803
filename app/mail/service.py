"""Putting emails in the outbox: digests after a build, confirmations after a subscribe.

Services: they take the caller's session and never commit (the flows in `app.mail.flows`,
the pipeline steps and the CLI own the transactions). A digest and its Delivery row are
written in the same transaction; the Delivery is unique per digest (and so per subscriber
and period), and rows of suppressed addresses are never queued (they are skipped again at
send time).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import cast

from sqlalchemy import Table, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import dialect_name
from app.digest.service import (
    BuildReport,
    BuiltDigest,
    DigestOptions,
    TextEncoder,
    VectorLoader,
    build_due_digests,
    gc_paused,
)
from app.mail.compose import MailSetup
from app.models import Delivery, Suppression
from app.models.digest import DeliveryContent
from app.subscribers.service import SubscribeResult


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
    chunk_size: int = 500,
) -> int:
    """Render built digests into outbox rows (one per digest; existing rows are left alone).

    Rendered and written a chunk at a time, so memory stays flat however many digests there are.
    """
    table = cast(Table, Delivery.__table__)  # Core statements: no ORM bookkeeping for thousands of rows
    base = postgresql.insert(table) if dialect_name(session) == "postgresql" else sqlite.insert(table)
    stmt = base.on_conflict_do_nothing().returning(table.c.id, table.c.digest_id)
    content_table = cast(Table, DeliveryContent.__table__)
    queued = 0
    for start in range(0, len(digests), chunk_size):
        chunk = digests[start : start + chunk_size]
        emails = sorted({d.email for d in chunk})
        suppressed = set(session.scalars(select(Suppression.email).where(Suppression.email.in_(emails))))
        rows, contents = [], {}
        with gc_paused():
            for d in chunk:
                if d.email not in suppressed:
                    row, content = setup.digest_row(d, now)
                    rows.append(row)
                    contents[d.digest_id] = content
        if rows:
            created = session.execute(stmt, rows).all()
            if created:
                values = [{"delivery_id": did, **contents[digest_id]} for did, digest_id in created]
                session.execute(insert(content_table), values)
            queued += len(created)
        if progress is not None:
            progress(len(chunk))
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


def queue_confirmation(
    session: Session, setup: MailSetup, result: SubscribeResult, now: datetime
) -> int | None:
    """The confirmation email of a subscribe request that may send one, as an outbox row.

    Returns the Delivery id, or None when the request sends nothing (limits, suppressed...).
    """
    if not result.should_send or result.subscriber is None:
        return None
    delivery, content = setup.confirmation_delivery(result.subscriber, now)
    session.add(delivery)
    session.flush()
    content.delivery_id = delivery.id
    session.add(content)
    return delivery.id
