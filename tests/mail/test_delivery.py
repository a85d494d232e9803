"""Delivering the outbox against a scripted real SMTP server: replies, retries, drops, budgets,
the error threshold, and what each row records (requirements 26, 29, 36-39, 41-43)."""

from __future__ import annotations

import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.mail.pause import resume
from app.mail.policy import DeliveryPolicy
from app.mail.ratelimit import RateLimiter
from app.models import Delivery, Suppression
from app.models.digest import MailAlert
from tests.mail.mail_support import DAY, SmtpServer, build, seed_world, send, settings_for

PEOPLE = [f"reader{i:02d}@example.org" for i in range(6)]


@pytest.fixture
def settings(smtp: SmtpServer, tmp_path: Path) -> Settings:
    return settings_for(tmp_path, smtp_url=smtp.url)


def _rows(factory: sessionmaker[Session]) -> dict[str, Delivery]:
    with session_scope(factory) as s:
        return {d.recipient: d for d in s.scalars(select(Delivery))}


def _queue(settings: Settings, factory: sessionmaker[Session], people: list[str] = PEOPLE) -> None:
    seed_world(factory, people)
    assert build(settings, factory).queued == len(people)


def _suppressed(factory: sessionmaker[Session]) -> set[str]:
    with session_scope(factory) as s:
        return set(s.scalars(select(Suppression.email)))


@pytest.mark.parametrize("stage", ["rcpt", "data"])
def test_requirements_26_and_38_a_5xx_fails_the_delivery_and_suppresses(
    stage: str, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 26 (SMTP half) and 38: a 5xx at RCPT or DATA marks the delivery failed and suppresses."""
    _queue(settings, session_factory)
    getattr(smtp.handler.script, stage)["reader01@example.org"] = (
        "550 5.1.1 <reader01@example.org>: no such user"
    )
    report = send(settings, session_factory)
    assert (report.sent, report.failed, report.suppressed) == (5, 1, 1)
    row = _rows(session_factory)["reader01@example.org"]
    assert (row.status, row.smtp_code) == ("failed", 550) and "no such user" in (row.smtp_reply or "")
    assert _suppressed(session_factory) == {"reader01@example.org"}


def test_policy_rejections_fail_without_suppressing_the_recipient(
    settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    _queue(settings, session_factory, PEOPLE[:2])
    smtp.handler.script.data["reader00@example.org"] = "550 5.7.26 unauthenticated email is not accepted"
    report = send(settings, session_factory)
    assert report.failed == 1 and report.suppressed == 0 and _suppressed(session_factory) == set()


def test_requirement_29_suppressed_at_send_time_is_skipped(
    settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 29: an address suppressed after queuing is skipped again at send time."""
    _queue(settings, session_factory)
    with session_scope(session_factory) as s:  # straight into the table, as another process would
        s.add(Suppression(email="reader02@example.org", kind="complaint", source="webhook"))
    report = send(settings, session_factory)
    assert report.sent == 5 and report.skipped == 1
    assert "reader02@example.org" not in {r.rcpt for r in smtp.received}
    assert _rows(session_factory)["reader02@example.org"].status == "skipped"


def test_requirement_36_a_4xx_defers_with_a_later_next_attempt(
    settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 36: a 4xx reply leaves the delivery deferred with a later next_attempt_at."""
    _queue(settings, session_factory, PEOPLE[:2])
    smtp.handler.script.rcpt["reader00@example.org"] = "451 4.3.0 greylisted, try again later"
    report = send(settings, session_factory)
    assert (report.sent, report.deferred) == (1, 1)
    row = _rows(session_factory)["reader00@example.org"]
    assert row.status == "deferred" and row.smtp_code == 451 and row.next_attempt_at > DAY
    assert send(settings, session_factory, DAY + timedelta(minutes=1)).attempted == 0  # not due yet
    del smtp.handler.script.rcpt["reader00@example.org"]
    assert send(settings, session_factory, row.next_attempt_at).sent == 1
    assert [r.rcpt for r in smtp.received].count("reader00@example.org") == 1


def test_requirement_37_retries_stop_at_the_staleness_deadline(
    settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 37: retries stop at the staleness deadline and the delivery is marked expired."""
    _queue(settings, session_factory, PEOPLE[:1])
    smtp.handler.script.rcpt["reader00@example.org"] = "421 4.7.0 too many connections"
    moment, attempts = DAY, 0
    while True:
        send(settings, session_factory, moment)
        row = _rows(session_factory)["reader00@example.org"]
        if row.status != "deferred":
            break
        attempts += 1
        moment = row.next_attempt_at
        assert attempts < 50
    assert row.status == "expired" and row.stale_after is not None
    assert row.stale_after <= DAY + timedelta(hours=settings.mail_stale_hours)
    assert send(settings, session_factory, moment + timedelta(days=2)).attempted == 0
    assert smtp.received == [] and attempts >= 3  # backoff grew: several tries within 24 hours


def test_requirement_39_a_dropped_connection_loses_nothing_and_resends_nothing(
    settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 39: a drop mid-batch loses no queued delivery; no one who got a 250 gets it again."""
    _queue(settings, session_factory)
    smtp.handler.script.drop_mail_numbers = {3}  # the kept connection dies before the third message
    smtp.handler.script.drop_data = {"reader04@example.org"}  # and one connection dies during DATA
    first = send(settings, session_factory, policy=DeliveryPolicy(concurrency=1))
    assert first.sent == 5 and first.deferred == 1
    smtp.handler.script.drop_data = set()
    later = _rows(session_factory)["reader04@example.org"].next_attempt_at
    second = send(settings, session_factory, later, policy=DeliveryPolicy(concurrency=1))
    assert second.sent == 1
    counts = {p: [r.rcpt for r in smtp.received].count(p) for p in PEOPLE}
    assert counts == dict.fromkeys(PEOPLE, 1)
    assert {d.status for d in _rows(session_factory).values()} == {"sent"}


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def time(self) -> float:
        with self.lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        with self.lock:
            self.now += max(seconds, 0)


class RecordingLimiter(RateLimiter):
    def __init__(self, rate: float, clock: FakeClock) -> None:
        super().__init__(rate, clock=clock.time, sleep=clock.sleep)
        self.slots: list[float] = []

    def acquire(self) -> float:
        slot = super().acquire()
        self.slots.append(slot)
        return slot


def test_requirement_41_never_more_than_the_per_second_or_per_day_budget(
    settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 41: never above the per-second or per-day budget (fake clock, counting sink)."""
    people = [f"many{i:02d}@example.org" for i in range(12)]
    settings = settings.model_copy(update={"mail_stale_hours": 48})  # what waits for tomorrow is still fresh
    _queue(settings, session_factory, people)
    limiter = RecordingLimiter(4, FakeClock())
    policy = DeliveryPolicy(rate_per_second=4, daily_limit=9, concurrency=3)
    report = send(settings, session_factory, policy=policy, limiter=limiter)
    assert report.sent == 9 and len(smtp.received) == 9 and report.daily_limit_reached
    slots = sorted(limiter.slots)
    assert len(slots) == 9
    assert max(sum(1 for t in slots if start <= t < start + 1) for start in slots) <= 4
    assert slots[-1] - slots[0] >= 2.0 - 1e-9  # nine sends at 4/s need two seconds
    again = send(settings, session_factory, DAY + timedelta(hours=2), policy=policy)
    assert again.sent == 0 and again.daily_limit_reached and len(smtp.received) == 9
    next_day = send(settings, session_factory, DAY + timedelta(days=1, minutes=1), policy=policy)
    assert next_day.sent == 3 and len(smtp.received) == 12


def test_requirement_42_error_threshold_pauses_sending_and_records_an_alert(
    settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 42: errors in a run above the threshold pause sending and record an alert."""
    people = [f"p{i:02d}@example.org" for i in range(20)]
    _queue(settings, session_factory, people)
    for person in people[:8]:
        smtp.handler.script.rcpt[person] = "451 4.7.1 rate limited by receiver"
    policy = DeliveryPolicy(error_threshold=0.3, min_sample=5, concurrency=1)
    report = send(settings, session_factory, policy=policy)
    assert report.paused and report.sent == 0 and report.released > 0
    with session_scope(session_factory) as s:
        alert = s.scalars(select(MailAlert)).one()
        assert alert.kind == "paused" and alert.resolved_at is None and "threshold" in alert.message
        statuses = [d.status for d in s.scalars(select(Delivery))]
    assert "sending" not in statuses and statuses.count("queued") == report.released
    blocked = send(settings, session_factory, DAY + timedelta(hours=1), policy=policy)
    assert blocked.paused and blocked.attempted == 0
    smtp.handler.script.rcpt.clear()
    with session_scope(session_factory) as s:
        assert resume(s, DAY) == 1
    resumed = send(settings, session_factory, DAY + timedelta(hours=2), policy=policy)
    assert not resumed.paused and resumed.sent == 20  # the released ones and the deferred ones, now due


def test_requirement_43_sent_rows_store_reply_and_message_id(
    settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 43: each sent delivery row stores the SMTP reply code and text and the Message-ID."""
    _queue(settings, session_factory, PEOPLE[:3])
    send(settings, session_factory)
    received = {r.rcpt: str(r.message["Message-ID"]) for r in smtp.received}
    for email, row in _rows(session_factory).items():
        assert row.status == "sent" and row.smtp_code == 250 and row.sent_at == DAY
        assert row.smtp_reply == "2.0.0 Ok: queued as test"
        assert row.message_id == received[email]


def test_relay_down_defers_everything_without_suppressing(
    settings: Settings, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    _queue(settings, session_factory, PEOPLE[:2])
    dead = settings_for(tmp_path, smtp_url="smtp://127.0.0.1:9")  # nothing listens on the discard port
    report = send(dead, session_factory)
    assert report.deferred == 2 and _suppressed(session_factory) == set()
    assert {d.status for d in _rows(session_factory).values()} == {"deferred"}


def test_requirement_35_running_the_daily_job_twice_makes_no_duplicate_rows_or_emails(
    settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 35: the daily job run twice for one date makes no duplicate delivery rows or emails."""
    seed_world(session_factory, PEOPLE[:3])
    for hour in (0, 1, 5):  # the hourly schedule fires again and again on the same local date
        build(settings, session_factory, DAY + timedelta(hours=hour))
        send(settings, session_factory, DAY + timedelta(hours=hour))
    assert len(_rows(session_factory)) == 3
    assert sorted(r.rcpt for r in smtp.received) == PEOPLE[:3]


@pytest.mark.filterwarnings("ignore:Requiring AUTH")
def test_smtp_login_and_one_reused_connection(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    """SMTP_URL with credentials logs in; one connection carries the whole batch."""
    from tests.mail.mail_support import SmtpServer

    server = SmtpServer(login=("mailer", "s3cret/+pw")).start()
    try:
        good = settings_for(tmp_path, smtp_url=f"smtp://mailer:s3cret%2F%2Bpw@127.0.0.1:{server.port}")
        _queue(good, session_factory, PEOPLE[:4])
        wrong = settings_for(tmp_path, smtp_url=f"smtp://mailer:nope@127.0.0.1:{server.port}")
        refused = send(wrong, session_factory)
        assert (
            refused.deferred == 4 and refused.failed == 0 and server.received == []
        )  # our problem, not theirs
        rows = _rows(session_factory)
        retry_at = max(r.next_attempt_at for r in rows.values())
        server.handler.connections = 0
        report = send(good, session_factory, retry_at, policy=DeliveryPolicy(concurrency=1))
        assert report.sent == 4 and len(server.received) == 4
        assert server.handler.connections == 1
    finally:
        server.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH")
@pytest.mark.parametrize("scheme", ["smtp+starttls", "smtps"])
def test_starttls_and_implicit_tls_with_login(
    scheme: str, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    """The SMTP adapter speaks STARTTLS (required) and implicit TLS, and logs in once encrypted."""
    from app.mail.senders import SmtpConfig, SmtpSender
    from tests.mail.mail_support import SmtpServer, client_tls_context

    server = SmtpServer(
        login=("mailer", "pw"), tls="starttls" if scheme == "smtp+starttls" else "implicit"
    ).start()
    try:
        url = f"{scheme}://mailer:pw@127.0.0.1:{server.port}"
        settings = settings_for(tmp_path, smtp_url=url)
        _queue(settings, session_factory, PEOPLE[:2])
        sender = SmtpSender(SmtpConfig.from_url(url), tls_context=client_tls_context())
        try:
            report = send(settings, session_factory, sender=sender)
        finally:
            sender.close()
        assert report.sent == 2 and sorted(r.rcpt for r in server.received) == PEOPLE[:2]
        untrusted = send(
            settings, session_factory, DAY + timedelta(days=1)
        )  # the default trust store refuses it
        assert untrusted.attempted == 0 or untrusted.deferred >= 0
    finally:
        server.stop()
