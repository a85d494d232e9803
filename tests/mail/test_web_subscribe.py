"""The subscribe form and API against a real SMTP server: opt-in, limits, no enumeration, CSRF,
honeypot and hostile input (requirements 1, 3, 9-15)."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.mail.senders import make_sender
from app.models import Delivery, Subscriber, Suppression, Topic
from tests.mail.mail_support import (
    SmtpServer,
    csrf_from,
    deliver_confirmations,
    links_in,
    make_app,
    path_of,
    settings_for,
)


@pytest.fixture
def app(smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path) -> FastAPI:
    settings = settings_for(tmp_path, smtp_url=smtp.url, subscribe_ip_limit=4)
    return make_app(settings, session_factory, make_sender(settings))


def _submit(client: TestClient, email: str, **extra: object) -> object:
    token = csrf_from(client.get("/subscribe").text)
    response = client.post("/subscribe", data={"email": email, "csrf_token": token, **extra})
    deliver_confirmations(client.app)  # type: ignore[arg-type]
    return response


def _api(client: TestClient, body: dict[str, object]) -> object:
    token = client.get("/api/v1/subscriptions/token").json()["token"]
    response = client.post("/api/v1/subscriptions", json={"token": token, **body})
    deliver_confirmations(client.app)  # type: ignore[arg-type]
    return response


def _count(factory: sessionmaker[Session], model: type) -> int:
    with session_scope(factory) as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_requirement_1_new_address_is_pending_and_gets_exactly_one_email(
    app: FastAPI, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 1: a subscribe POST for a new address creates a pending subscriber and sends one email."""
    response = _submit(TestClient(app), "new@example.org")
    assert response.status_code == 200  # type: ignore[attr-defined]
    assert [r.rcpt for r in smtp.received] == ["new@example.org"]
    with session_scope(session_factory) as s:
        sub = s.scalars(select(Subscriber)).one()
        delivery = s.scalars(select(Delivery)).one()
        assert sub.status == "pending"
        assert (delivery.kind, delivery.status, delivery.smtp_code) == ("confirm", "sent", 250)


def test_requirement_3_get_of_confirmation_url_changes_nothing(
    app: FastAPI, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 3: a GET of the confirmation URL does not change state; only the POST confirms."""
    client = TestClient(app)
    _submit(client, "reader@example.org")
    link = next(
        u for u in links_in(smtp.received[0].message.get_body(("plain",)).get_content()) if "/confirm/" in u
    )
    for _ in range(3):
        assert client.get(path_of(link)).status_code == 200
        assert client.head(path_of(link)).status_code in (200, 405)
    with session_scope(session_factory) as s:
        assert s.scalars(select(Subscriber.status)).one() == "pending"
    page = client.get(path_of(link))
    assert client.post(path_of(link), data={"csrf_token": csrf_from(page.text)}).status_code == 200
    with session_scope(session_factory) as s:
        assert s.scalars(select(Subscriber.status)).one() == "confirmed"
    # A confirmation POST without the page's token is refused.
    assert client.post(path_of(link), data={}).status_code == 403


def test_requirement_9_ten_submissions_within_the_cooldown_send_one_email(
    app: FastAPI, smtp: SmtpServer
) -> None:
    """Requirement 9: ten subscribe submissions for one address within the cooldown send at most one email."""
    clients = [TestClient(app, client=(f"203.0.113.{i}", 5000)) for i in range(10)]
    for client in clients:
        assert _submit(client, "Bombed@Example.org").status_code == 200  # type: ignore[attr-defined]
    assert [r.rcpt for r in smtp.received] == ["bombed@example.org"]


def test_requirement_10_one_ip_beyond_the_limit_is_throttled_and_nothing_is_sent(
    app: FastAPI, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 10: submissions from one IP beyond the limit are throttled and send no email."""
    client = TestClient(app, client=("198.51.100.9", 4000))
    answers = [_submit(client, f"user{i}@example.org") for i in range(7)]
    assert {a.status_code for a in answers} == {200}  # type: ignore[attr-defined]
    assert len(smtp.received) == 4  # SUBSCRIBE_IP_LIMIT=4 in this test
    assert _count(session_factory, Subscriber) == 4


def test_requirement_11_same_answer_for_every_kind_of_address(
    app: FastAPI, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 11: identical status and body for new, pending, confirmed, suppressed and throttled."""
    with session_scope(session_factory) as s:
        s.add(Subscriber(email="confirmed@example.org", status="confirmed", link_key="k1"))
        s.add(Subscriber(email="pending@example.org", status="pending", link_key="k2"))
        s.add(Suppression(email="suppressed@example.org", kind="complaint", source="webhook"))
    bodies = {}
    for i, email in enumerate(["new@example.org", "pending@example.org", "confirmed@example.org",
                               "suppressed@example.org"]):  # fmt: skip
        r = _submit(TestClient(app, client=(f"192.0.2.{i}", 1)), email)
        bodies[email] = (r.status_code, r.text)  # type: ignore[attr-defined]
    throttled_client = TestClient(app, client=("192.0.2.99", 1))
    for i in range(4):
        _submit(throttled_client, f"filler{i}@example.org")
    r = _submit(throttled_client, "throttled@example.org")
    bodies["throttled@example.org"] = (r.status_code, r.text)  # type: ignore[attr-defined]
    assert len(set(bodies.values())) == 1, {k: v[0] for k, v in bodies.items()}
    assert "new@example.org" not in next(iter(bodies.values()))[1]
    assert {r.rcpt for r in smtp.received} == {"new@example.org", "pending@example.org"} | {
        f"filler{i}@example.org" for i in range(4)
    }


def test_requirement_12_honeypot_sends_nothing_and_answers_normally(
    app: FastAPI, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 12: a filled honeypot sends no email and gets the normal response."""
    normal = _submit(TestClient(app, client=("192.0.2.1", 1)), "human@example.org")
    bot = _submit(TestClient(app, client=("192.0.2.2", 1)), "bot@example.org", website="http://spam.example")
    assert (bot.status_code, bot.text) == (normal.status_code, normal.text)  # type: ignore[attr-defined]
    assert [r.rcpt for r in smtp.received] == ["human@example.org"]


def test_too_fast_submission_counts_as_a_bot(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=smtp.url, subscribe_min_seconds=30)
    response = _submit(
        TestClient(make_app(settings, session_factory, make_sender(settings))), "fast@example.org"
    )
    assert response.status_code == 200 and smtp.received == []  # type: ignore[attr-defined]


def test_requirement_13_missing_or_forged_csrf_token_is_rejected_and_sends_nothing(
    app: FastAPI, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 13: a subscribe POST without a valid CSRF token is rejected and sends nothing."""
    client = TestClient(app)
    token = csrf_from(client.get("/subscribe").text)
    other_form = csrf_from(client.get("/admin").text)  # a valid token for another form
    for data in ({"email": "x@example.org"}, {"email": "x@example.org", "csrf_token": token[:-2] + "xx"},
                 {"email": "x@example.org", "csrf_token": other_form}):  # fmt: skip
        response = client.post("/subscribe", data=data)
        assert response.status_code == 403
    assert smtp.received == [] and _count(session_factory, Subscriber) == 0


def test_requirement_14_line_breaks_never_become_headers(
    app: FastAPI, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 14: a name (or address) with \\r\\n never produces an extra header in a sent message."""
    client = TestClient(app)
    hostile = _submit(client, "victim@example.org\r\nBcc: everyone@example.org")
    assert hostile.status_code == 422 and "line break" in hostile.text  # type: ignore[attr-defined]
    assert smtp.received == []
    ok = _submit(client, "reader@example.org", name="Eve\r\nBcc: everyone@example.org\r\nX-Evil: 1")
    assert ok.status_code == 200  # type: ignore[attr-defined]
    (received,) = smtp.received
    headers = {k.lower() for k in received.message}
    assert "bcc" not in headers and "x-evil" not in headers
    assert b"everyone@example.org" not in received.raw


def test_requirement_15_confirmation_contains_nothing_the_submitter_typed(
    app: FastAPI, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 15: the confirmation email contains no text supplied by the submitter."""
    with session_scope(session_factory) as s:
        s.add(Topic(slug="quantization", label="Quantization"))
    _submit(TestClient(app), "cheap-pills-at-spam.example@example.org", name="BUY CHEAP PILLS", topics=["1"])
    (received,) = smtp.received
    msg = received.message
    for part in (msg.get_body(("plain",)), msg.get_body(("html",))):
        body = part.get_content()  # type: ignore[union-attr]
        assert "PILLS" not in body.upper() and "cheap-pills" not in body and "Quantization" not in body
    assert "cheap-pills" not in str(msg["Subject"])


def test_hostile_fields_get_clear_errors(app: FastAPI, smtp: SmtpServer) -> None:
    client = TestClient(app)
    token = csrf_from(client.get("/subscribe").text)
    long_address = "a" * 300 + "@example.org"
    response = client.post("/subscribe", data={"email": long_address, "csrf_token": token})
    assert response.status_code == 422 and "longer than 254" in response.text
    response = client.post("/subscribe", data={"email": "<script>alert(1)</script>", "csrf_token": token})
    assert response.status_code == 422 and "<script>alert" not in response.text
    response = client.post(
        "/subscribe", data={"email": "ok@example.org", "topics": ["1; DROP"], "csrf_token": token}
    )
    assert response.status_code == 422 and "Unexpected value" in response.text
    huge = client.post("/subscribe", data={"email": "x" * 20_000 + "@example.org", "csrf_token": token})
    assert huge.status_code == 422
    assert smtp.received == []


def test_global_cap_and_daily_cap(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(
        tmp_path, smtp_url=smtp.url, subscribe_global_limit=3, subscribe_cooldown_minutes=0
    )
    app = make_app(settings, session_factory, make_sender(settings))
    for i in range(5):
        _submit(TestClient(app, client=(f"192.0.2.{i}", 1)), f"person{i}@example.org")
    assert len(smtp.received) == 3  # the global budget per hour


def test_per_address_daily_cap_even_without_cooldown(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=smtp.url, subscribe_cooldown_minutes=0)
    app = make_app(settings, session_factory, make_sender(settings))
    for i in range(6):
        _submit(TestClient(app, client=(f"192.0.2.{i}", 1)), "again@example.org")
    assert len(smtp.received) == 3


def test_api_subscription_has_the_same_protections(
    app: FastAPI, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    with session_scope(session_factory) as s:
        s.add(Topic(slug="quantization", label="Quantization"))
    client = TestClient(app)
    first = _api(client, {"email": "Api@Example.org", "topics": ["quantization"]})
    again = _api(client, {"email": "api@example.org", "topics": []})
    assert first.status_code == again.status_code == 202 and first.json() == again.json()  # type: ignore[attr-defined]
    assert [r.rcpt for r in smtp.received] == ["api@example.org"]
    bad = _api(client, {"email": "nope"})
    assert bad.status_code == 422  # type: ignore[attr-defined]
    unknown = _api(client, {"email": "b@example.org", "topics": ["no-such-topic"]})
    assert unknown.status_code == 422 and "Unknown topic" in unknown.text  # type: ignore[attr-defined]
    form_post = client.post("/api/v1/subscriptions", data={"email": "c@example.org"})
    assert form_post.status_code == 422  # no form-encoded side door (a cross-site form cannot post JSON)
    with session_scope(session_factory) as s:
        sub = s.scalars(select(Subscriber).where(Subscriber.email == "api@example.org")).one()
        assert (sub.status, sub.source) == ("pending", "api")


def test_subscribe_form_preselects_a_topic_from_the_topic_page(
    app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    with session_scope(session_factory) as s:
        s.add(Topic(slug="quantization", label="Quantization"))
    page = TestClient(app).get("/subscribe?topic=quantization").text
    assert 'value="1" checked' in page.replace("\n", " ") or "checked> <span>Quantization" in page


def test_requirement_44_the_suite_cannot_reach_beyond_loopback(smtp: SmtpServer) -> None:
    """Requirement 44: the email suite uses in-process aiosmtpd, networking limited to 127.0.0.1."""
    import socket

    from tests.mail.mail_support import NetworkBlocked

    assert smtp.controller.hostname == "127.0.0.1"
    with socket.create_connection(("127.0.0.1", smtp.port), timeout=2) as conn:
        assert conn.recv(100).startswith(b"220")
        conn.sendall(b"QUIT\r\n")
        assert conn.recv(100).startswith(b"221")
    with pytest.raises(NetworkBlocked):
        socket.create_connection(("192.0.2.10", 25), timeout=1)
