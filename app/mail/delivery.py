"""Delivering the outbox: claim rows with a lease, send, record every reply.

This is a flow, not a service: it owns its transactions, because a claim must be visible
to other workers before sending starts and every 250 must be on disk soon after it
arrives. Semantics (see docs/ and the email reference):

* claim: `queued`/`deferred` rows that are due become `sending` with a lease, in one UPDATE
  (FOR UPDATE SKIP LOCKED on PostgreSQL), so several workers share the outbox;
* before sending, rows of unsubscribed or suppressed addresses become `skipped`;
* 2xx → `sent` with the reply; 4xx or a lost connection → `deferred` with backoff until
  `stale_after`, then `expired`; 5xx → `failed`, and a 5xx at RCPT/DATA suppresses the address
  (except 5.7.x policy rejections, which are about us, not the recipient);
* a worker killed mid-batch leaves `sending` rows whose lease runs out; the next run puts them
  back in the queue (at-least-once: at most one duplicate per message that was in flight);
* when the share of errors in a run passes the threshold, sending stops, unsent claims are
  released and an open `paused` alert blocks further runs until an operator resumes.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.db import dialect_name, session_scope
from app.mail.compose import MailSetup
from app.mail.dkim import DkimError
from app.mail.message import HeaderError
from app.mail.ratelimit import RateLimiter
from app.mail.senders import Sender, SendResult
from app.models import Delivery, Subscriber, Suppression
from app.models._common import utcnow
from app.models.digest import DeliveryContent, MailAlert
from app.subscribers.suppression import suppress

if TYPE_CHECKING:
    from app.config import Settings

log = logging.getLogger("papertrend.mail")
RETRYABLE = ("queued", "deferred")


@dataclass(frozen=True)
class DeliveryPolicy:
    rate_per_second: float = 20.0
    daily_limit: int = 50_000
    concurrency: int = 2
    error_threshold: float = 0.2
    min_sample: int = 20  # attempts in a run before the error share can pause sending
    lease_seconds: int = 300
    batch_size: int = 200
    commit_every: int = 50  # results written per transaction (a kill resends at most these)
    backoff_base_s: int = 300
    backoff_max_s: int = 7200
    max_attempts: int = 15

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            rate_per_second=settings.smtp_rate_per_second,
            daily_limit=settings.smtp_daily_limit,
            concurrency=settings.smtp_concurrency,
            error_threshold=settings.mail_error_threshold,
        )

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.backoff_base_s * 2 ** max(attempts - 1, 0), self.backoff_max_s))


@dataclass
class DeliverReport:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    expired: int = 0
    skipped: int = 0
    recovered: int = 0
    released: int = 0
    suppressed: int = 0
    paused: bool = False
    daily_limit_reached: bool = False
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.deferred + self.failed

    def summary(self) -> str:
        text = (
            f"{self.sent} sent, {self.deferred} deferred, {self.failed} failed, {self.expired} expired, "
            f"{self.skipped} skipped, {self.recovered} recovered; {self.seconds:.1f}s"
        )
        if self.paused:
            text += "; SENDING PAUSED (error threshold): see /admin, resume with `papertrend mail resume`"
        if self.daily_limit_reached:
            text += "; daily limit reached, the rest waits"
        return text


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


# Housekeeping -----------------------------------------------------------------------------


def open_pause(session: Session) -> MailAlert | None:
    stmt = select(MailAlert).where(MailAlert.kind == "paused", MailAlert.resolved_at.is_(None))
    return session.scalars(stmt.order_by(MailAlert.id.desc()).limit(1)).first()


def resume(session: Session, now: datetime) -> int:
    """Resolve open pause alerts (operator action). Returns how many were open."""
    rows = session.scalars(
        select(MailAlert).where(MailAlert.kind == "paused", MailAlert.resolved_at.is_(None))
    )
    count = 0
    for row in rows:
        row.resolved_at = now
        count += 1
    session.flush()
    return count


def recover_and_expire(session: Session, now: datetime, policy: DeliveryPolicy) -> tuple[int, int]:
    """Claims whose lease ran out go back to the queue; stale unsent rows expire."""
    lost = session.scalars(
        select(Delivery).where(Delivery.status == "sending", Delivery.lease_until < now)
    ).all()
    for row in lost:
        row.lease_owner = row.lease_until = None
        if row.attempts >= policy.max_attempts:
            row.status = "failed"
            row.last_error = f"gave up after {row.attempts} attempts with unknown outcome"
        else:
            row.status = "queued"
            row.next_attempt_at = now
            row.last_error = "recovered after the sending worker stopped; the message may arrive twice"
    stale = session.scalars(
        select(Delivery).where(Delivery.status.in_(RETRYABLE), Delivery.stale_after < now)
    ).all()
    for row in stale:
        row.status = "expired"
        row.last_error = (row.last_error or "") + " | expired: not delivered before the staleness deadline"
    session.flush()
    return len(lost), len(stale)


def sent_since(session: Session, since: datetime) -> int:
    stmt = select(func.count()).where(Delivery.status == "sent", Delivery.sent_at >= since)
    return int(session.scalar(stmt) or 0)


def outbox_counts(session: Session, now: datetime) -> dict[str, int]:
    """For `digest send --dry-run`: rows due now, rows waiting for a retry, and whether sending is paused."""
    due = select(func.count()).where(Delivery.status.in_(RETRYABLE), Delivery.next_attempt_at <= now)
    later = select(func.count()).where(Delivery.status.in_(RETRYABLE), Delivery.next_attempt_at > now)
    return {
        "due": int(session.scalar(due) or 0),
        "later": int(session.scalar(later) or 0),
        "paused": int(open_pause(session) is not None),
    }


def _due_exists(session: Session, now: datetime) -> bool:
    stmt = select(Delivery.id).where(Delivery.status.in_(RETRYABLE), Delivery.next_attempt_at <= now).limit(1)
    return session.scalar(stmt) is not None


# Claiming ---------------------------------------------------------------------------------


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
            status="sending",
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
        elif row.kind == "digest" and sub_status != "confirmed":
            reason = f"subscriber is {sub_status}"
        elif row.kind == "confirm" and sub_status != "pending":
            reason = f"subscriber is already {sub_status}"
        if reason:
            row.status, row.last_error, row.lease_owner, row.lease_until = "skipped", reason, None, None
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


# Recording --------------------------------------------------------------------------------

_POLICY_REJECTION = re.compile(r"\b5\.7\.\d+\b")


def _suppresses(result: SendResult) -> bool:
    """A permanent refusal of the recipient (RCPT/DATA), not of us (5.7.x: authentication, policy)."""
    return (
        result.status == "failed"
        and result.code is not None
        and 500 <= result.code < 600
        and result.stage in ("rcpt", "data")
        and not _POLICY_REJECTION.search(result.reply)
    )


def record(
    session: Session,
    outcomes: list[tuple[Claimed, SendResult | None]],
    *,
    now: datetime,
    policy: DeliveryPolicy,
    report: DeliverReport,
) -> None:
    """Write the results of one group of attempts (one transaction)."""
    values: list[dict[str, Any]] = []
    for item, result in outcomes:
        base: dict[str, Any] = {"id": item.id, "lease_owner": None, "lease_until": None}
        if result is None:  # never attempted (sending paused): back to the queue, attempt not counted
            values.append({**base, "status": "queued", "attempts": item.attempts - 1})
            report.released += 1
            continue
        base.update(smtp_code=result.code, smtp_reply=result.reply)
        if result.status == "sent":
            values.append({**base, "status": "sent", "sent_at": now, "last_error": None})
            report.sent += 1
        elif result.status == "failed":
            values.append({**base, "status": "failed", "last_error": f"permanent failure at {result.stage}"})
            report.failed += 1
            if _suppresses(result) and suppress(
                session,
                item.recipient,
                kind="bounce",
                reason=f"{result.code} {result.reply}",
                source="smtp",
                now=now,
            ):
                report.suppressed += 1
        else:
            note = (
                "outcome unknown (connection lost during DATA)" if result.status == "unknown" else "transient"
            )
            if item.stale_after is not None and now + policy.backoff(item.attempts) > item.stale_after:
                values.append(
                    {**base, "status": "expired", "last_error": f"{note}; past the staleness deadline"}
                )
                report.expired += 1
            else:
                values.append(
                    {
                        **base,
                        "status": "deferred",
                        "next_attempt_at": now + policy.backoff(item.attempts),
                        "last_error": note,
                    }
                )
                report.deferred += 1
    if values:
        for group in _same_keys(values):
            session.execute(update(Delivery), group)
    session.flush()


def _same_keys(values: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for v in values:
        groups.setdefault(tuple(sorted(v)), []).append(v)
    return list(groups.values())


# Sending ----------------------------------------------------------------------------------


def _attempt(
    item: Claimed,
    sender: Sender,
    setup: MailSetup,
    now: Callable[[], datetime],
    limiter: RateLimiter | None,
    stop: threading.Event,
) -> tuple[Claimed, SendResult | None]:
    if stop.is_set():
        return item, None
    try:
        message = setup.message(item, now())
    except (HeaderError, DkimError, ValueError) as exc:
        return item, SendResult("failed", None, f"message could not be built: {exc}", stage="build")
    if limiter is not None:
        limiter.acquire()
        if stop.is_set():
            return item, None
    try:
        send_raw = getattr(sender, "send_raw", None)
        if send_raw is None:  # a sender with only the `send(EmailMessage)` interface
            parsed = message_from_bytes(message, policy=email_policy.default)
            return item, sender.send(parsed)
        return item, send_raw(
            setup.identity.from_address, item.recipient, message, message_id=item.message_id
        )
    except Exception as exc:  # a sender bug must not lose the row: treat as unknown outcome
        log.exception("sender raised for delivery %s", item.id)
        return item, SendResult("unknown", None, f"sender error: {type(exc).__name__}: {exc}", stage="data")


def deliver_outbox(
    factory: sessionmaker[Session],
    sender: Sender,
    setup: MailSetup,
    *,
    policy: DeliveryPolicy,
    now: Callable[[], datetime] = utcnow,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
    owner: str | None = None,
    max_messages: int | None = None,
    only_ids: list[int] | None = None,
    progress: Callable[[int], None] | None = None,
    limiter: RateLimiter | None = None,
) -> DeliverReport:
    """Send every due outbox row within the budgets. Safe to run in several processes at once."""
    started = time.perf_counter()
    report = DeliverReport()
    owner = owner or default_owner()
    with session_scope(factory) as session:
        alert = open_pause(session)
        if alert is not None:
            report.paused = True
            report.errors.append(alert.message)
            return report
        report.recovered, report.expired = recover_and_expire(session, now(), policy)
        budget = policy.daily_limit - sent_since(session, now() - timedelta(days=1))
    if max_messages is not None:
        budget = min(budget, max_messages)
    limiter = limiter or RateLimiter(policy.rate_per_second, clock=clock, sleep=sleep)
    stop = threading.Event()
    tally = _Tally()
    with ThreadPoolExecutor(max_workers=policy.concurrency, thread_name_prefix="mail") as pool:
        while not stop.is_set():
            if budget <= 0:
                with session_scope(factory) as session:
                    report.daily_limit_reached = _due_exists(session, now())
                break
            with session_scope(factory) as session:
                batch, skipped = claim(
                    session,
                    owner=owner,
                    now=now(),
                    limit=min(policy.batch_size, budget),
                    policy=policy,
                    only_ids=only_ids,
                )
            report.skipped += skipped
            report.claimed += len(batch)
            if not batch:
                if skipped:
                    continue
                break
            budget -= len(batch)
            futures = [pool.submit(_attempt, item, sender, setup, now, limiter, stop) for item in batch]
            done: list[tuple[Claimed, SendResult | None]] = []
            for future in as_completed(futures):
                item, result = future.result()
                done.append((item, result))
                if tally.add(result, policy):
                    stop.set()
                if len(done) >= policy.commit_every:
                    _commit(factory, done, now(), policy, report)
                    if progress is not None:
                        progress(len(done))
                    done = []
            _commit(factory, done, now(), policy, report)
            if progress is not None and done:
                progress(len(done))
    if stop.is_set():
        report.paused = True
        with session_scope(factory) as session:
            _raise_alert(session, report, now(), policy)
    report.seconds = time.perf_counter() - started
    return report


@dataclass
class _Tally:
    """Attempts and errors of this run, for the error threshold (counted as results arrive)."""

    attempted: int = 0
    errors: int = 0

    def add(self, result: SendResult | None, policy: DeliveryPolicy) -> bool:
        """Count one result; True when the run's error share has passed the threshold."""
        if result is not None:
            self.attempted += 1
            self.errors += not result.ok
        return self.attempted >= policy.min_sample and self.errors / self.attempted > policy.error_threshold


def _commit(
    factory: sessionmaker[Session],
    done: list[tuple[Claimed, SendResult | None]],
    now: datetime,
    policy: DeliveryPolicy,
    report: DeliverReport,
) -> None:
    if done:
        with session_scope(factory) as session:
            record(session, done, now=now, policy=policy, report=report)


def _raise_alert(session: Session, report: DeliverReport, now: datetime, policy: DeliveryPolicy) -> None:
    message = (
        f"Sending paused: {report.deferred + report.failed} of {report.attempted} attempts failed in one run "
        f"(threshold {policy.error_threshold:.0%}). Check the SMTP relay and the failures on /admin, "
        "then resume with `papertrend mail resume`."
    )
    session.add(
        MailAlert(
            kind="paused",
            message=message,
            created_at=now,
            details={"sent": report.sent, "deferred": report.deferred, "failed": report.failed},
        )
    )
    log.error(message)


def send_now(
    factory: sessionmaker[Session],
    sender: Sender,
    setup: MailSetup,
    delivery_id: int,
    *,
    now: datetime,
    policy: DeliveryPolicy = DeliveryPolicy(),
) -> SendResult | None:
    """Send one queued row right away (confirmation emails). Returns None when it was not sent now
    (sending paused, or the row was skipped); the outbox run retries what is left."""
    with session_scope(factory) as session:
        if open_pause(session) is not None:
            return None
        batch, _ = claim(
            session, owner=default_owner(), now=now, limit=1, policy=policy, only_ids=[delivery_id]
        )
    if not batch:
        return None
    item, result = _attempt(batch[0], sender, setup, lambda: now, None, threading.Event())
    _commit(factory, [(item, result)], now, policy, DeliverReport())
    return result
