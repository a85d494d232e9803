"""Parallel subscribe requests: the limits hold and a lost race is a normal answer.

Real threads post at the same moment (a barrier releases them together) to the real app on
both databases. The decision and its writes are one atomic step, so ten requests for one
pending address queue one confirmation inside the cooldown, the daily cap holds with the
cooldown off, and many requests for a new address all get the normal answer with no server
error and no address in the log.
"""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.mail.senders import make_sender
from app.models import Delivery, Subscriber
from tests.mail.mail_support import SmtpServer, csrf_from, deliver_confirmations, make_app, settings_for


def _parallel_posts(app: FastAPI, email: str, count: int) -> list[int]:
    """`count` clients, each from its own address, open the form and then post at the same moment."""
    clients = [TestClient(app, client=(f"198.51.100.{i + 1}", 4000 + i)) for i in range(count)]
    tokens = [csrf_from(c.get("/subscribe").text) for c in clients]
    barrier = threading.Barrier(count)
    statuses: list[int] = [0] * count

    def post(i: int) -> None:
        barrier.wait()
        response = clients[i].post("/subscribe", data={"email": email, "csrf_token": tokens[i]})
        statuses[i] = response.status_code

    threads = [threading.Thread(target=post, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    return statuses


def _confirmations(factory: sessionmaker[Session]) -> int:
    with session_scope(factory) as s:
        return int(s.scalar(select(func.count()).where(Delivery.kind == "confirm")) or 0)


def test_ten_parallel_requests_for_a_pending_address_send_one_mail(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=smtp.url, subscribe_cooldown_minutes=10)
    app = make_app(settings, session_factory, make_sender(settings))
    with session_scope(session_factory) as s:
        s.add(Subscriber(email="pending@example.org", status="pending", link_key="k-pending"))
    assert _parallel_posts(app, "pending@example.org", 10) == [200] * 10
    deliver_confirmations(app)
    assert _confirmations(session_factory) == 1
    assert [r.rcpt for r in smtp.received] == ["pending@example.org"]


def test_the_daily_cap_holds_with_the_cooldown_off(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=smtp.url, subscribe_cooldown_minutes=0)
    app = make_app(settings, session_factory, make_sender(settings))
    assert _parallel_posts(app, "capped@example.org", 12) == [200] * 12
    deliver_confirmations(app)
    assert _confirmations(session_factory) == settings.subscribe_address_daily_limit == 3
    assert len(smtp.received) == 3


def test_parallel_requests_for_a_new_address_all_get_the_normal_answer(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = settings_for(tmp_path, smtp_url=smtp.url)
    app = make_app(settings, session_factory, make_sender(settings))
    with caplog.at_level(logging.INFO):
        assert _parallel_posts(app, "brand-new@example.org", 8) == [200] * 8
    with session_scope(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(Subscriber)) == 1
    assert _confirmations(session_factory) == 1
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert "brand-new@example.org" not in caplog.text
