"""The confirmation email is queued, never sent inside the request.

A relay that accepts connections and never answers cannot slow `POST /subscribe` or the API:
the request touches no socket of the relay, and a confirmed address, a new one and an unknown
one get the same answer from the same work (a short transaction). The web process's
confirmation thread sends the queued email within seconds; the job it runs is a plain
function a worker can run too. After a failed connection the sender answers at once for a
few seconds instead of waiting for the relay again (connect backoff).
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.jobs.confirmations import for_worker
from app.jobs.mailing import send_confirmations
from app.mail.senders import SmtpConfig, SmtpSender, make_sender
from app.models import Delivery, Subscriber
from tests.mail.mail_support import SmtpServer, csrf_from, make_app, settings_for


class SilentRelay:
    """Accepts TCP connections on 127.0.0.1 and never says a word (no greeting, no reply)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(conn)

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.sock.getsockname()[1]}"

    def close(self) -> None:
        self.sock.close()
        for conn in self.accepted:
            conn.close()


@pytest.fixture
def silent() -> Iterator[SilentRelay]:
    relay = SilentRelay()
    yield relay
    relay.close()


def _statuses(factory: sessionmaker[Session]) -> list[str]:
    with session_scope(factory) as s:
        return list(
            s.scalars(select(Delivery.status).where(Delivery.kind == "confirm").order_by(Delivery.id))
        )


def test_a_relay_that_never_answers_does_not_hold_up_the_request(
    silent: SilentRelay, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=silent.url)
    sender = SmtpSender(SmtpConfig.from_url(silent.url, timeout=1.0))
    app = make_app(settings, session_factory, sender)
    with session_scope(session_factory) as s:
        s.add(Subscriber(email="confirmed@example.org", status="confirmed", link_key="k-conf"))
    answers = {}
    for i, email in enumerate(["new@example.org", "confirmed@example.org", "new@example.org"]):
        client = TestClient(app, client=(f"192.0.2.{i + 1}", 1))
        form = client.get("/subscribe")
        answer = client.post("/subscribe", data={"email": email, "csrf_token": csrf_from(form.text)})
        answers[(email, i)] = (answer.status_code, answer.text)
        api = TestClient(app, client=(f"192.0.2.{i + 101}", 1))
        token = api.get("/api/v1/subscriptions/token").json()["token"]
        assert api.post("/api/v1/subscriptions", json={"email": email, "token": token}).status_code == 202
    assert len(set(answers.values())) == 1  # the same page whatever the address
    assert silent.accepted == []  # no request opened a connection to the relay
    assert _statuses(session_factory) == ["queued"]  # one confirmation, waiting for the job

    # The job meets the silent relay: the attempt times out and is deferred for a retry ...
    report = send_confirmations(settings, session_factory, sender=sender)
    assert (report.claimed, report.deferred) == (1, 1)
    assert _statuses(session_factory) == ["deferred"]
    assert len(silent.accepted) == 1
    sender.close()


def test_connect_backoff_answers_at_once_after_a_failed_connection(silent: SilentRelay) -> None:
    sender = SmtpSender(SmtpConfig.from_url(silent.url, timeout=0.5), connect_backoff_s=2.0)
    raw = b"From: a@example.org\r\nTo: b@example.org\r\nSubject: x\r\n\r\nhello\r\n"
    first = sender.send_raw("a@example.org", "b@example.org", raw)
    assert (first.status, first.stage) == ("deferred", "connect")
    for _ in range(5):
        again = sender.send_raw("a@example.org", "b@example.org", raw)
        assert (again.status, again.stage) == ("deferred", "connect")
    assert len(silent.accepted) == 1  # the five retries did not knock on the relay's door again
    time.sleep(2.1)  # the moment is over: the next message tries the relay again
    sender.send_raw("a@example.org", "b@example.org", raw)
    assert len(silent.accepted) == 2
    sender.close()


def test_the_confirmation_thread_sends_within_seconds(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=smtp.url)
    app = make_app(settings, session_factory, make_sender(settings))
    with TestClient(app) as client:  # the lifespan starts the thread, as `papertrend web` and `run` do
        form = client.get("/subscribe")
        client.post("/subscribe", data={"email": "soon@example.org", "csrf_token": csrf_from(form.text)})
        deadline = time.monotonic() + 15
        while not smtp.received and time.monotonic() < deadline:
            time.sleep(0.05)
    assert [r.rcpt for r in smtp.received] == ["soon@example.org"]
    assert _statuses(session_factory) == ["sent"]


def test_with_workers_sending_the_web_process_only_queues(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=smtp.url, confirmation_sender="worker")
    app = make_app(settings, session_factory, make_sender(settings))
    with TestClient(app) as client:
        form = client.get("/subscribe")
        client.post("/subscribe", data={"email": "later@example.org", "csrf_token": csrf_from(form.text)})
    assert smtp.received == [] and _statuses(session_factory) == ["queued"]
    send_confirmations(settings, session_factory)  # what a worker runs: its own sender, closed after
    assert [r.rcpt for r in smtp.received] == ["later@example.org"]


def test_a_worker_sends_the_confirmations_within_seconds_when_the_workers_send_them(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=smtp.url, confirmation_sender="worker")
    assert settings.confirmations_by_worker
    app = make_app(settings, session_factory, make_sender(settings))
    with TestClient(app) as client:
        form = client.get("/subscribe")
        client.post("/subscribe", data={"email": "worker@example.org", "csrf_token": csrf_from(form.text)})
    assert smtp.received == []
    thread = for_worker(settings, session_factory)  # what `papertrend worker` starts
    try:
        deadline = time.monotonic() + 20
        while not smtp.received and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        thread.stop()
    assert [r.rcpt for r in smtp.received] == ["worker@example.org"]
    assert _statuses(session_factory) == ["sent"]


def test_auto_means_the_web_process_in_embedded_mode_and_the_workers_in_scale_out(tmp_path: Path) -> None:
    assert not settings_for(tmp_path).confirmations_by_worker  # SQLite: embedded
    scale_out = settings_for(tmp_path, run_mode="scaleout", database_url="postgresql://u@127.0.0.1/x")
    assert scale_out.confirmations_by_worker
    assert not settings_for(tmp_path, run_mode="scaleout", database_url="postgresql://u@127.0.0.1/x",
                            confirmation_sender="web").confirmations_by_worker  # fmt: skip
