"""What the operator sees on /admin: subscribers by state, runs, deliveries, failures, suppressions."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.models import Delivery, JobRun, Subscriber, Suppression
from app.models.digest import MailAlert
from app.models.statuses import DeliveryStatus, SubscriberStatus
from app.models.subscriber import SubscribeAttempt


@dataclass
class Overview:
    subscribers: dict[str, int] = field(default_factory=dict)
    frequencies: dict[str, int] = field(default_factory=dict)
    deliveries: dict[str, int] = field(default_factory=dict)
    deliveries_24h: dict[str, int] = field(default_factory=dict)
    attempts_24h: dict[str, int] = field(default_factory=dict)
    runs: list[JobRun] = field(default_factory=list)
    failures: list[Delivery] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    suppression_count: int = 0
    alerts: list[MailAlert] = field(default_factory=list)


def _counts(
    session: Session, column: InstrumentedAttribute[str], *where: ColumnElement[bool]
) -> dict[str, int]:
    """Rows per value of `column` (among the rows matching `where`)."""
    return dict(session.execute(select(column, func.count()).where(*where).group_by(column)).tuples().all())


def overview(session: Session, now: datetime, *, limit: int = 50) -> Overview:
    day_ago = now - timedelta(days=1)
    out = Overview()
    out.subscribers = _counts(session, Subscriber.status)
    out.frequencies = _counts(session, Subscriber.frequency, Subscriber.status == SubscriberStatus.CONFIRMED)
    out.deliveries = _counts(session, Delivery.status)
    out.deliveries_24h = _counts(session, Delivery.status, Delivery.created_at >= day_ago)
    out.attempts_24h = _counts(session, SubscribeAttempt.outcome, SubscribeAttempt.created_at >= day_ago)
    out.runs = list(
        session.scalars(select(JobRun).order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(20))
    )
    out.failures = list(
        session.scalars(
            select(Delivery)
            .where(
                Delivery.status.in_((DeliveryStatus.FAILED, DeliveryStatus.DEFERRED, DeliveryStatus.EXPIRED))
            )
            .order_by(Delivery.id.desc())
            .limit(limit)
        )
    )
    out.suppression_count = int(session.scalar(select(func.count()).select_from(Suppression)) or 0)
    out.suppressions = list(
        session.scalars(select(Suppression).order_by(Suppression.created_at.desc()).limit(limit))
    )
    out.alerts = list(
        session.scalars(
            select(MailAlert)
            .where((MailAlert.resolved_at.is_(None)) | (MailAlert.created_at >= now - timedelta(days=7)))
            .order_by(MailAlert.id.desc())
            .limit(20)
        )
    )
    return out
