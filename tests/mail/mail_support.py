"""A real SMTP server for the mail tests (aiosmtpd on 127.0.0.1, port chosen by the OS) that can be
told to answer 4xx/5xx or drop the connection, plus the app and settings the tests share.

Provenance: the handler follows aiosmtpd 1.4.6's documented hooks (handle_MAIL, handle_RCPT,
handle_DATA); nothing is faked above the socket.
"""

from __future__ import annotations

import asyncio
import email
import re
import ssl
import threading
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings, load_settings
from app.db import session_scope
from app.digest.service import DigestOptions
from app.embed.service import load_vectors
from app.mail.compose import MailSetup
from app.mail.flows import deliver_outbox
from app.mail.outcomes import DeliverReport
from app.mail.policy import DeliveryPolicy
from app.mail.senders import Sender, SmtpConfig, SmtpSender, make_sender
from app.mail.service import QueueReport, build_and_queue
from app.models import Delivery, Topic
from app.models._common import utcnow
from app.models.statuses import DeliveryStatus
from tests.digest.digest_support import add_paper, add_subscriber, add_topic

SECRET = "test-secret-key-0123456789-abcdefghijklmnop"
BASE_URL = "https://news.example.org"
MAIL_FROM = "papertrend <digest@news.example.org>"


@dataclass
class Received:
    mail_from: str
    rcpt: str
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        msg = email.message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(msg, EmailMessage)
        return msg


@dataclass
class Script:
    """How the server answers. Addresses are lower-case."""

    rcpt: dict[str, str] = field(default_factory=dict)  # address → reply at RCPT
    data: dict[str, str] = field(default_factory=dict)  # address → reply after DATA
    drop_data: set[str] = field(default_factory=set)  # close the connection instead of answering DATA
    drop_mail_numbers: set[int] = field(default_factory=set)  # close at the n-th MAIL command (1-based)
    data_delay: float = 0.0  # seconds before answering DATA


class ScriptedHandler:
    def __init__(self) -> None:
        self.script = Script()
        self.received: list[Received] = []
        self.seen: list[Received] = []  # every DATA the server read, whatever it answered
        self.mail_commands = 0
        self.connections = 0
        self._lock = threading.Lock()

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        with self._lock:
            self.connections += 1
        return responses

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        with self._lock:
            self.mail_commands += 1
            number = self.mail_commands
        if number in self.script.drop_mail_numbers:
            server.transport.close()
            return "421 4.4.2 closing"
        envelope.mail_from = address
        return "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        reply = self.script.rcpt.get(address.lower())
        if reply:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        rcpt = envelope.rcpt_tos[0].lower()
        with self._lock:
            self.seen.append(Received(envelope.mail_from, rcpt, bytes(envelope.original_content)))
        if self.script.data_delay:
            await asyncio.sleep(self.script.data_delay)
        if rcpt in self.script.drop_data:
            server.transport.close()
            return "451 never seen"
        reply = self.script.data.get(rcpt)
        if reply:
            return reply
        with self._lock:
            self.received.append(Received(envelope.mail_from, rcpt, bytes(envelope.original_content)))
        return "250 2.0.0 Ok: queued as test"

    def to(self, address: str) -> list[Received]:
        with self._lock:
            return [r for r in self.received if r.rcpt == address.lower()]


class PortZeroController(Controller):
    """aiosmtpd's Controller bound to a port the OS picks (tests run in parallel)."""

    def _create_server(self) -> Awaitable[asyncio.AbstractServer]:
        async def create() -> asyncio.AbstractServer:
            server = await self.loop.create_server(
                self._factory_invoker, host=self.hostname, port=0, ssl=self.ssl_context
            )
            self.port = server.sockets[0].getsockname()[1]
            return server

        return create()


TLS_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "tls"


def server_tls_context() -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(TLS_DIR / "test_cert.pem", TLS_DIR / "test_key.pem")
    return context


def client_tls_context() -> ssl.SSLContext:
    """Trusts the test certificate only (it is valid for 127.0.0.1)."""
    return ssl.create_default_context(cafile=str(TLS_DIR / "test_cert.pem"))


class SmtpServer:
    def __init__(self, *, login: tuple[str, str] | None = None, tls: str = "") -> None:
        """`tls`: "" (plain), "starttls" (required before MAIL) or "implicit" (smtps)."""
        self.handler = ScriptedHandler()
        options: dict[str, Any] = {}
        if tls == "starttls":
            options |= {"tls_context": server_tls_context(), "require_starttls": True}
        elif tls == "implicit":
            options |= {"ssl_context": server_tls_context()}
        if login is not None:  # AUTH PLAIN/LOGIN required, over plain TCP (loopback only, tests only)

            def authenticator(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> Any:
                from aiosmtpd.smtp import AuthResult

                ok = (data.login.decode(), data.password.decode()) == login
                return AuthResult(success=ok, handled=False)

            options |= {"authenticator": authenticator, "auth_require_tls": False, "auth_required": True,
                        "auth_exclude_mechanism": ["LOGIN"]}  # fmt: skip
        self.controller = PortZeroController(self.handler, hostname="127.0.0.1", port=0, **options)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def port(self) -> int:
        return int(self.controller.port)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def received(self) -> list[Received]:
        return self.handler.received

    def sender(self, timeout: float = 10.0) -> SmtpSender:
        return SmtpSender(SmtpConfig.from_url(self.url, timeout=timeout))


def settings_for(tmp: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "var_dir": tmp,
        "secret_key": SECRET,
        "base_url": BASE_URL,
        "mail_from": MAIL_FROM,
        "subscribe_min_seconds": 0,
        "environment": "test",
        "admin_token": "admin-token-for-tests",
        "bounce_webhook_secret": "webhook-secret-for-tests",
    }
    values.update(overrides)
    return load_settings(**values)


def make_app(settings: Settings, factory: sessionmaker[Session], sender: Any) -> FastAPI:
    from app.main import create_app

    return create_app(settings, session_factory=factory, sender=sender, load_search=False)


DAY = datetime(2026, 5, 5, 8, 0, tzinfo=UTC)  # Tuesday 08:00 UTC: default send hour (07:00 UTC) has passed


def seed_world(
    factory: sessionmaker[Session],
    emails: list[str],
    *,
    day: datetime = DAY,
    papers: int = 3,
    send_hour: int = 7,
) -> None:
    """Two topics with papers announced on `day`, and confirmed subscribers following the first."""
    with session_scope(factory) as s:
        existing = {t.slug: t for t in s.scalars(select(Topic))}
        quant = existing.get("quantization") or add_topic(s, "Quantization")
        rl = existing.get("reinforcement-learning") or add_topic(s, "Reinforcement learning")
        for i in range(papers):
            add_paper(
                s, f"Low-bit quantization of transformers, part {i}", day=day.date(), topics={quant: 0.9}
            )
            add_paper(s, f"Offline policy optimisation, part {i}", day=day.date(), topics={rl: 0.9})
        for email in emails:
            add_subscriber(s, email, topics=[quant], send_hour=send_hour)


def build(settings: Settings, factory: sessionmaker[Session], now: datetime = DAY) -> QueueReport:
    """What `papertrend digest build` does."""
    setup = MailSetup.from_settings(settings)
    with session_scope(factory) as session:
        return build_and_queue(
            session,
            setup,
            now=now,
            options=DigestOptions.from_settings(settings, "hashing-test"),
            load_vectors=load_vectors,
        )


def send(
    settings: Settings,
    factory: sessionmaker[Session],
    now: datetime = DAY,
    *,
    sender: Sender | None = None,
    policy: DeliveryPolicy | None = None,
    **kw: Any,
) -> DeliverReport:
    """What `papertrend digest send` does, at a chosen time."""
    own = sender is None
    sender = sender or make_sender(settings)
    try:
        return deliver_outbox(
            factory,
            sender,
            MailSetup.from_settings(settings),
            policy=policy or DeliveryPolicy.from_settings(settings),
            now=lambda: now,
            **kw,
        )
    finally:
        if own:
            sender.close()


def deliver_confirmations(app: FastAPI, timeout: float = 10.0) -> None:
    """Send the confirmations the app queued, as its confirmation thread does within seconds.

    Tests that build the app without its lifespan have no such thread; with one running, this
    waits until it has sent what was due (claims make the two safe side by side).
    """
    from app.http import state_of
    from app.jobs.mailing import send_confirmations

    state = state_of(app)
    deadline = time.monotonic() + timeout
    while True:
        send_confirmations(state.settings, state.session_factory, sender=state.sender, setup=state.mail_setup)
        with session_scope(state.session_factory) as session:
            busy = session.scalar(
                select(func.count()).where(
                    Delivery.kind == "confirm",
                    (Delivery.status == DeliveryStatus.SENDING)
                    | (
                        Delivery.status.in_(DeliveryStatus.retryable())
                        & (Delivery.next_attempt_at <= utcnow())
                    ),
                )
            )
        if not busy or time.monotonic() > deadline:
            return
        time.sleep(0.05)


def wait_for_mail(server: SmtpServer, rcpt: str, count: int = 1, timeout: float = 15.0) -> list[Received]:
    """The messages to `rcpt` once `count` arrived (a running app's confirmation thread sends them)."""
    deadline = time.monotonic() + timeout
    while len(server.handler.to(rcpt)) < count and time.monotonic() < deadline:
        time.sleep(0.05)
    return server.handler.to(rcpt)


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no CSRF token in the page"
    return match.group(1)


def links_in(text: str) -> list[str]:
    return re.findall(r"https?://\S+", text)


def path_of(url: str) -> str:
    assert url.startswith(BASE_URL), url
    return url[len(BASE_URL) :]


class NetworkBlocked(OSError):
    """Raised by the mail tests' socket guard for any address beyond loopback (requirement 44)."""
