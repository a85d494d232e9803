"""Addresses beyond ASCII and pooled SMTP connections, against a real aiosmtpd server on 127.0.0.1.

An address like jörg@example.org goes out with SMTPUTF8 when the relay offers it; otherwise it is
refused with a reason (at delivery, and at the form once the relay is known not to take it), and
it never leaves the pooled connection inside a transaction: the next message is sent normally,
nothing is suppressed and the error threshold does not pause sending.
"""

from __future__ import annotations

import smtplib
from collections.abc import Iterator
from email import message_from_bytes, policy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.mail.policy import DeliveryPolicy
from app.mail.senders import SmtpConfig, SmtpSender, address_refusal, make_sender
from app.models import Delivery, MailAlert, Suppression
from tests.digest.digest_support import add_paper, add_subscriber, add_topic
from tests.mail.mail_support import (
    DAY,
    PortZeroController,
    ScriptedHandler,
    build,
    csrf_from,
    deliver_confirmations,
    make_app,
    send,
    settings_for,
)
from tests.security.support import local_client

FROM = "digest@news.example.org"


class Relay:
    """aiosmtpd on 127.0.0.1 with SMTPUTF8 on or off."""

    def __init__(self, *, smtputf8: bool) -> None:
        self.handler = ScriptedHandler()
        self.controller = PortZeroController(
            self.handler, hostname="127.0.0.1", port=0, enable_SMTPUTF8=smtputf8, decode_data=False
        )

    def __enter__(self) -> Relay:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.controller.port}"

    def sender(self) -> SmtpSender:
        return SmtpSender(SmtpConfig.from_url(self.url, timeout=10))


@pytest.fixture
def plain_relay() -> Iterator[Relay]:
    with Relay(smtputf8=False) as relay:
        yield relay


@pytest.fixture
def utf8_relay() -> Iterator[Relay]:
    with Relay(smtputf8=True) as relay:
        yield relay


def _raw(to: str, subject: str = "Hello") -> bytes:
    return (
        f"From: {FROM}\r\nTo: {to}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
        'Content-Type: text/plain; charset="utf-8"\r\n\r\nHello.\r\n'
    ).encode()


def test_non_ascii_address_is_sent_with_smtputf8_when_the_relay_offers_it(utf8_relay: Relay) -> None:
    sender = utf8_relay.sender()
    try:
        result = sender.send_raw(FROM, "jörg@example.org", _raw("jörg@example.org"))
        assert result.status == "sent", result
        assert sender.smtputf8 is True
    finally:
        sender.close()
    (received,) = utf8_relay.handler.received
    assert received.rcpt == "jörg@example.org"
    message = message_from_bytes(received.raw, policy=policy.default)
    assert str(message["To"]) == "jörg@example.org"


def test_non_ascii_address_is_refused_without_breaking_the_next_message(plain_relay: Relay) -> None:
    sender = plain_relay.sender()
    try:
        refused = sender.send_raw(FROM, "jörg@example.org", _raw("ada@example.org"))
        assert refused.status == "failed" and refused.stage == "address"
        assert "SMTPUTF8" in refused.reply
        after = [sender.send_raw(FROM, f"{n}@example.org", _raw(f"{n}@example.org")) for n in ("ada", "bob")]
        assert [r.status for r in after] == ["sent", "sent"], after
        assert sender.smtputf8 is False
    finally:
        sender.close()
    assert [r.rcpt for r in plain_relay.handler.received] == ["ada@example.org", "bob@example.org"]
    assert plain_relay.handler.connections == 1  # the same pooled connection carried on


def test_unicode_domain_travels_in_its_ascii_form(plain_relay: Relay) -> None:
    sender = plain_relay.sender()
    try:
        result = sender.send_raw(FROM, "ada@bücher.example", _raw("ada@xn--bcher-kva.example"))
    finally:
        sender.close()
    assert result.status == "sent", result
    assert [r.rcpt for r in plain_relay.handler.received] == ["ada@xn--bcher-kva.example"]


def test_an_error_inside_a_transaction_resets_the_pooled_connection(
    plain_relay: Relay, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Any exception after MAIL FROM was accepted ends the transaction before the next message.

    The fault is injected in smtplib at RCPT (as an encoding error or a library bug would raise);
    the server and the connection are real, and the server has already taken MAIL FROM.
    """
    original = smtplib.SMTP.rcpt

    def failing_rcpt(self: smtplib.SMTP, recip: str, options: Any = ()) -> Any:
        if recip.startswith("eve@"):
            raise UnicodeEncodeError("ascii", recip, 0, 1, "injected")
        return original(self, recip, options)

    monkeypatch.setattr(smtplib.SMTP, "rcpt", failing_rcpt)
    sender = plain_relay.sender()
    try:
        broken = sender.send_raw(FROM, "eve@example.org", _raw("eve@example.org"))
        assert broken.status == "deferred" and "send failed before DATA" in broken.reply
        nxt = sender.send_raw(FROM, "ada@example.org", _raw("ada@example.org"))
        assert nxt.status == "sent", nxt  # not "503 nested MAIL command"
    finally:
        sender.close()
    assert [r.rcpt for r in plain_relay.handler.received] == ["ada@example.org"]


def test_a_non_ascii_subscriber_does_not_pause_sending_or_suppress_anyone(
    plain_relay: Relay, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=plain_relay.url, smtp_concurrency=1)
    with session_scope(session_factory) as s:
        quant = add_topic(s, "Quantization")
        for i in range(3):
            add_paper(s, f"Low-bit quantization, part {i}", day=DAY.date(), topics={quant: 0.9})
        # Ids in order: the non-ASCII address is the first message on the connection.
        for address in ("jörg@example.org", "ada@example.org", "bob@example.org", "cy@example.org"):
            add_subscriber(s, address, topics=[quant])
    assert build(settings, session_factory).queued == 4
    policy = DeliveryPolicy(concurrency=1, min_sample=2, error_threshold=0.2)
    report = send(settings, session_factory, policy=policy)
    assert (report.sent, report.failed, report.paused, report.suppressed) == (3, 1, False, 0), report
    with session_scope(session_factory) as s:
        statuses = {d.recipient: (d.status, d.last_error) for d in s.scalars(select(Delivery))}
        assert statuses["jörg@example.org"] == ("failed", "permanent failure at address")
        assert s.scalars(select(Suppression)).all() == []
        assert s.scalars(select(MailAlert)).all() == []
    assert sorted(r.rcpt for r in plain_relay.handler.received) == [
        "ada@example.org",
        "bob@example.org",
        "cy@example.org",
    ]


def test_subscribe_refuses_a_non_ascii_address_once_the_relay_is_known_not_to_take_it(
    plain_relay: Relay, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=plain_relay.url)
    sender = plain_relay.sender()
    app = make_app(settings, session_factory, sender)
    client = local_client(app)
    try:
        # Before any connection the relay's abilities are unknown: the address is accepted.
        assert address_refusal(sender, "jörg@example.org") is None
        form = client.get("/subscribe")
        first = client.post(
            "/subscribe", data={"email": "anna@example.org", "csrf_token": csrf_from(form.text)}
        )
        deliver_confirmations(app)
        assert first.status_code == 200 and sender.smtputf8 is False  # the confirmation went out
        form = client.get("/subscribe")
        refused = client.post(
            "/subscribe", data={"email": "jörg@example.org", "csrf_token": csrf_from(form.text)}
        )
        assert refused.status_code == 422 and "beyond ASCII" in refused.text
        token = client.get("/api/v1/subscriptions/token").json()["token"]
        api = client.post("/api/v1/subscriptions", json={"email": "jörg@example.org", "token": token})
        assert api.status_code == 422 and "beyond ASCII" in api.json()["error"]["message"]
        # An ASCII address, or a Unicode domain (it has an ASCII form), is still welcome.
        assert address_refusal(sender, "ada@bücher.example") is None
    finally:
        sender.close()


def test_the_file_outbox_takes_any_address(tmp_path: Path) -> None:
    sender = make_sender(settings_for(tmp_path))
    assert address_refusal(sender, "jörg@example.org") is None
    result = sender.send_raw(FROM, "jörg@example.org", _raw("jörg@example.org"), message_id="<m1@x>")
    assert result.status == "sent"
