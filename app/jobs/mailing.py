"""Pipeline steps for mail: build the due digests into the outbox, then deliver the outbox."""

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
from app.mail.flows import deliver_outbox
from app.mail.policy import DeliveryPolicy
from app.mail.queries import last_delivery_id, queued_after
from app.mail.senders import Sender, make_sender
from app.mail.service import QueueReport, build_and_queue


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
