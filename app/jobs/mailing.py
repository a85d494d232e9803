"""Jobs for mail: build the due digests into the outbox, deliver the outbox, send confirmations.

Plain functions of the settings and a session factory: the scheduler, the workers and the
web process's confirmation thread (`app.jobs.confirmations`) call them alike.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.digest.service import DigestOptions
from app.embed.encoder import Encoder
from app.embed.service import load_vectors
from app.jobs.runs import StepResult, run_step
from app.mail.compose import MailSetup
from app.mail.flows import deliver_confirmations, deliver_outbox
from app.mail.outcomes import DeliverReport
from app.mail.policy import DeliveryPolicy
from app.mail.queries import last_delivery_id, queued_after
from app.mail.senders import Sender, make_sender
from app.mail.service import QueueReport, build_and_queue
from app.models._common import utcnow


def build_digests(
    session: Session,
    settings: Settings,
    setup: MailSetup,
    encoder: Encoder,
    now: datetime,
    progress: Callable[[int], None] | None = None,
) -> QueueReport:
    """The due digests built and queued in the caller's transaction (the step and `digest build`)."""
    return build_and_queue(
        session,
        setup,
        now=now,
        options=DigestOptions.from_settings(settings, encoder.model_name),
        encoder=encoder,
        load_vectors=load_vectors,
        progress=progress,
    )


def step_digest_build(
    settings: Settings,
    factory: sessionmaker[Session],
    encoder: Encoder,
    now: datetime,
    fan_out: Callable[[Session, list[int]], int] | None = None,
) -> StepResult:
    """Build the due digests; `fan_out` (scale-out mode) hands the new outbox rows to the
    workers as send tasks in the same transaction, so rows and tasks exist together or not at all."""

    def work(result: StepResult) -> None:
        setup = MailSetup.from_settings(settings)
        with session_scope(factory) as session:
            before = last_delivery_id(session)
            report = build_digests(session, settings, setup, encoder, now)
            chunks = fan_out(session, queued_after(session, before)) if fan_out is not None else 0
        result.summary = report.summary() + (f"; {chunks} send tasks" if fan_out is not None else "")
        result.stats = {"queued": report.queued, "due": report.build.due}

    return run_step(factory, "digest:build", work)


def step_deliver(
    settings: Settings, factory: sessionmaker[Session], sender: Sender | None, now: datetime
) -> StepResult:
    def work(result: StepResult) -> None:
        setup = MailSetup.from_settings(settings)
        if sender is None:
            own = make_sender(settings)
            try:
                report = deliver_outbox(factory, own, setup, policy=DeliveryPolicy.from_settings(settings))
            finally:
                own.close()
        else:
            report = deliver_outbox(factory, sender, setup, policy=DeliveryPolicy.from_settings(settings))
        result.summary = report.summary()
        result.ok = not report.paused
        if report.paused:
            result.error = "sending paused after too many errors"

    return run_step(factory, "digest:send", work)


def send_confirmations(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    sender: Sender | None = None,
    setup: MailSetup | None = None,
    now: Callable[[], datetime] = utcnow,
) -> DeliverReport:
    """Send the queued confirmation emails that are due (a subscribe request only queues them).

    Safe to run anywhere and often (claims with leases): in the web process's background
    thread, as a worker task, or by hand. Without `sender` it opens its own and closes it.
    """
    setup = setup or MailSetup.from_settings(settings)
    policy = DeliveryPolicy.from_settings(settings)
    own = sender is None
    active = make_sender(settings) if sender is None else sender
    try:
        return deliver_confirmations(factory, active, setup, policy=policy, now=now)
    finally:
        if own:
            active.close()
