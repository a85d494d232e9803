"""Mail flows: they own their transactions (take a session factory, commit as they go).

* `deliver_outbox`: the send loop that claims outbox rows, sends them and records every reply;
* `request_subscription`: a subscribe request recorded and its confirmation queued; the web
  form and the JSON API reach it through `app.http.subscribe`, never directly;
* `deliver_confirmations`: the queued confirmations sent (the job `app.jobs.mailing.send_confirmations`).

They commit on their own because a claim must be visible to other workers before sending
starts, every 250 must be on disk soon after it arrives, and no database lock may be held
while an SMTP relay answers. Semantics of delivery (see docs/ and the email reference):

* claim: `queued`/`deferred` rows that are due become `sending` with a lease, in one UPDATE
  (FOR UPDATE SKIP LOCKED on PostgreSQL), so several workers share the outbox;
* before sending, rows of unsubscribed or suppressed addresses become `skipped`;
* 2xx → `sent` with the reply; 4xx or a lost connection → `deferred` with backoff until
  `stale_after`, then `expired`; 5xx → `failed`, and a 5xx at RCPT/DATA suppresses the address
  (except 5.7.x policy rejections, which are about us, not the recipient);
* leases are extended every third of their length while a batch is being sent
  (`LeaseKeeper`), and a result is written only while its worker still holds the row's lease;
  a lost lease stops the run;
* a worker killed mid-batch leaves `sending` rows whose lease runs out; the next run puts them
  back in the queue (at-least-once: at most one duplicate per message that was in flight);
* when the share of errors in a run passes the threshold, sending stops, unsent claims are
  released and an open `paused` alert blocks further runs until an operator resumes.

Scale-out mode sends through `app.mail.chunks` (send tasks, fleet-wide budgets) instead.
Claims and leases live in `app.mail.leases`, recording outcomes in `app.mail.outcomes`, the
error-threshold pause in `app.mail.pause`, the budgets in `app.mail.policy` and queueing into
the outbox (no commit) in `app.mail.service`; this module keeps the loops that tie them together.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email import message_from_bytes
from email import policy as email_policy
from typing import Protocol

from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.mail.compose import MailSetup
from app.mail.dkim import DkimError
from app.mail.leases import (
    Claimed,
    LeaseKeeper,
    claim,
    default_owner,
    due_exists,
    recover_and_expire,
    sent_since,
)
from app.mail.message import HeaderError
from app.mail.outcomes import DeliverReport, record
from app.mail.pause import ErrorTally, open_pause, raise_pause_alert
from app.mail.policy import DeliveryPolicy
from app.mail.queries import due_confirmation_ids
from app.mail.ratelimit import RateLimiter
from app.mail.senders import Sender, SendResult
from app.mail.service import queue_confirmation
from app.models._common import utcnow
from app.models.statuses import SubscriberStatus
from app.subscribers.service import SubscribeLimits, SubscribeResult, apply_profile, subscribe

log = logging.getLogger("papertrend.mail")


class Pace(Protocol):
    """A sending pace: the in-process `RateLimiter`, or the fleet-wide one (`app.mail.fleet`)."""

    def acquire(self) -> float: ...


# Sending ----------------------------------------------------------------------------------


def attempt_one(
    item: Claimed,
    sender: Sender,
    setup: MailSetup,
    now: Callable[[], datetime],
    limiter: Pace | None,
    stop: threading.Event,
) -> tuple[Claimed, SendResult | None]:
    """Build and send one claimed row; None when `stop` was set before it went out."""
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


@dataclass
class Run:
    """A delivery run as it opens: its report, the owner of its leases, what it may send.

    `budget` is the daily limit less the last 24 hours' sends; None while an alert pauses
    sending, and the report then carries the alert's message.
    """

    report: DeliverReport
    owner: str
    budget: int | None = None
    started: float = field(default_factory=time.perf_counter)

    def finish(self) -> DeliverReport:
        """The report, with the seconds the run took."""
        self.report.seconds = time.perf_counter() - self.started
        return self.report


def open_run(factory: sessionmaker[Session], policy: DeliveryPolicy, now: datetime, owner: str | None) -> Run:
    """Open a delivery run whose leases `owner` holds (this worker when None)."""
    run = Run(DeliverReport(), owner or default_owner())
    with session_scope(factory) as session:
        alert = open_pause(session)
        if alert is not None:
            run.report.paused = True
            run.report.errors.append(alert.message)
        else:
            run.budget = policy.daily_limit - sent_since(session, now - timedelta(days=1))
    return run


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
    run = open_run(factory, policy, now(), owner)
    if run.budget is None:
        return run.report
    report, owner, budget = run.report, run.owner, run.budget
    with session_scope(factory) as session:
        report.recovered, report.expired = recover_and_expire(session, now(), policy)
    if max_messages is not None:
        budget = min(budget, max_messages)
    limiter = limiter or RateLimiter(policy.rate_per_second, clock=clock, sleep=sleep)
    stop = threading.Event()
    tally = ErrorTally()
    tripped = False
    with ThreadPoolExecutor(max_workers=policy.concurrency, thread_name_prefix="mail") as pool:
        while not stop.is_set():
            if budget <= 0:
                with session_scope(factory) as session:
                    report.daily_limit_reached = due_exists(session, now())
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
            ids = [item.id for item in batch]
            with LeaseKeeper(factory, owner=owner, ids=ids, policy=policy, now=now) as keeper:
                # keeper.lost is this batch's stop signal: set by the keeper when a lease is lost
                # (another worker holds the row now) and here when the error share trips.
                halt = keeper.lost
                futures = [
                    pool.submit(attempt_one, item, sender, setup, now, limiter, halt) for item in batch
                ]
                done: list[tuple[Claimed, SendResult | None]] = []
                for future in as_completed(futures):
                    item, result = future.result()
                    done.append((item, result))
                    if tally.add(result, policy):
                        tripped = True
                        halt.set()
                    if len(done) >= policy.commit_every:
                        commit_results(factory, keeper, done, now(), policy, report, owner)
                        if progress is not None:
                            progress(len(done))
                        done = []
                commit_results(factory, keeper, done, now(), policy, report, owner)
                if progress is not None and done:
                    progress(len(done))
            if halt.is_set():
                if not tripped:
                    report.errors.append("a lease was lost (this worker stalled past it); run stopped")
                stop.set()
    if tripped:
        report.paused = True
        with session_scope(factory) as session:
            raise_pause_alert(session, report, now(), policy)
    return run.finish()


def commit_results(
    factory: sessionmaker[Session],
    keeper: LeaseKeeper | None,
    done: list[tuple[Claimed, SendResult | None]],
    now: datetime,
    policy: DeliveryPolicy,
    report: DeliverReport,
    owner: str,
) -> bool:
    """Record attempts in one transaction, as the holder of their leases (`keeper` stops renewing them).

    True when a lease was found lost (another worker holds the row now); `keeper.lost` is set then.
    """
    if not done:
        return False
    if keeper is not None:
        for item, _ in done:
            keeper.done(item.id)
    with session_scope(factory) as session:
        lost = record(session, done, now=now, policy=policy, report=report, owner=owner)
    if lost and keeper is not None:
        keeper.lost.set()
    return bool(lost)


# Subscribing and confirmations ----------------------------------------------------------


def request_subscription(
    factory: sessionmaker[Session],
    setup: MailSetup,
    *,
    email: str,
    topic_ids: list[int],
    ip: str,
    now: datetime,
    limits: SubscribeLimits,
    source: str = "web",
    honeypot: bool = False,
    profile: Mapping[str, str | None] | None = None,
) -> tuple[SubscribeResult, int | None]:
    """Record a subscribe request and, when allowed, queue its confirmation email.

    `profile` (keywords, interest, authors, exclude as `apply_profile` takes them) applies to a
    new or still unconfirmed address only, in the same transaction: a confirmed subscriber's
    preferences change through their own signed link, never through a subscribe request.

    Nothing is sent here: the request, the decision and the outbox row are one short
    transaction, and `deliver_confirmations` sends the row within seconds. So a relay that
    is slow or does not answer never holds up the request, and the time a request takes
    says nothing about the address. Returns the decision and the queued row's id (or None).
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
        target = result.subscriber
        if profile and target is not None and target.status == SubscriberStatus.PENDING:
            apply_profile(session, target, now=now, **profile)
        delivery_id = queue_confirmation(session, setup, result, now)
    return result, delivery_id


def deliver_confirmations(
    factory: sessionmaker[Session],
    sender: Sender,
    setup: MailSetup,
    *,
    policy: DeliveryPolicy,
    now: Callable[[], datetime] = utcnow,
    limit: int = 200,
) -> DeliverReport:
    """Send the queued confirmation emails that are due, oldest first (digests wait for their run).

    The same claims, leases, outcomes and pause as `deliver_outbox`, so it is safe beside a
    delivery run and in several processes at once.
    """
    with session_scope(factory) as session:
        ids = due_confirmation_ids(session, now(), limit)
    if not ids:
        return DeliverReport()
    return deliver_outbox(factory, sender, setup, policy=policy, now=now, only_ids=ids)
