"""The bounce/complaint webhook (requirements 26, 27, 30) and the /admin page."""

from __future__ import annotations

import hashlib
import hmac
import json
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.mail.senders import make_sender
from app.models import Delivery, JobRun, Suppression
from app.models.digest import MailAlert
from tests.mail.mail_support import SmtpServer, build, csrf_from, make_app, seed_world, send, settings_for

SECRET = "webhook-secret-for-tests"


@pytest.fixture
def settings(smtp: SmtpServer, tmp_path: Path) -> Settings:
    return settings_for(tmp_path, smtp_url=smtp.url)


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    return make_app(settings, session_factory, make_sender(settings))


def _suppressed(factory: sessionmaker[Session]) -> dict[str, str]:
    with session_scope(factory) as s:
        return {row.email: row.kind for row in s.scalars(select(Suppression))}


def test_requirement_26_hard_bounce_webhook_suppresses_immediately(
    app: FastAPI, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 26 (webhook half): a hard-bounce webhook suppresses the address at once."""
    seed_world(session_factory, ["gone@example.org", "here@example.org"])
    build(settings, session_factory)  # queued, not yet sent
    body = {
        "email": "Gone@Example.org",
        "kind": "bounce",
        "bounce_type": "hard",
        "reason": "550 5.1.1 unknown",
    }
    response = TestClient(app).post(
        "/webhooks/bounces", json=body, headers={"Authorization": f"Bearer {SECRET}"}
    )
    assert response.status_code == 200 and response.json()["suppressed"] == 1
    assert _suppressed(session_factory) == {"gone@example.org": "bounce"}
    send(settings, session_factory)
    assert [r.rcpt for r in smtp.received] == ["here@example.org"]
    soft = {"email": "here@example.org", "kind": "bounce", "bounce_type": "soft"}
    answer = TestClient(app).post("/webhooks/bounces", json=soft, headers={"X-Webhook-Secret": SECRET})
    assert answer.json() == {"received": 1, "suppressed": 0, "already": 0, "recorded": 1}
    assert "here@example.org" not in _suppressed(session_factory)


def test_requirement_27_complaint_webhook_suppresses_immediately(
    app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 27: a complaint webhook suppresses the address immediately (HMAC-signed body)."""
    body = json.dumps({"events": [{"address": "angry@example.org", "type": "complaint"}]}).encode()
    signature = hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    response = TestClient(app).post(
        "/webhooks/bounces", content=body, headers={"X-Signature": f"sha256={signature}",
                                                     "Content-Type": "application/json"}
    )  # fmt: skip
    assert response.status_code == 200
    assert _suppressed(session_factory) == {"angry@example.org": "complaint"}


def test_requirement_30_webhook_without_valid_secret_is_refused_and_changes_nothing(
    app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 30: a bounce webhook without a valid secret or signature gets 401/403, changes nothing."""
    body = {"email": "victim@example.org", "kind": "complaint"}
    client = TestClient(app)
    attempts = [
        client.post("/webhooks/bounces", json=body),
        client.post("/webhooks/bounces", json=body, headers={"Authorization": "Bearer wrong"}),
        client.post("/webhooks/bounces", json=body, headers={"X-Webhook-Secret": SECRET[:-1]}),
        client.post("/webhooks/bounces", json=body, headers={"X-Signature": "sha256=" + "0" * 64}),
    ]
    assert {r.status_code for r in attempts} <= {401, 403}
    assert _suppressed(session_factory) == {}


def test_webhook_rejects_malformed_events_without_partial_changes(
    app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    body = [{"email": "ok@example.org", "kind": "bounce"}, {"email": "broken", "kind": "bounce"}]
    response = TestClient(app).post(
        "/webhooks/bounces", json=body, headers={"Authorization": f"Bearer {SECRET}"}
    )
    assert response.status_code == 422 and "event 2" in response.json()["error"]
    assert _suppressed(session_factory) == {}


def test_webhook_is_off_without_a_secret(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    settings = settings_for(tmp_path, bounce_webhook_secret="")
    client = TestClient(make_app(settings, session_factory, make_sender(settings)))
    assert client.post("/webhooks/bounces", json={"email": "a@example.org"}).status_code == 404


def test_admin_needs_the_token_and_shows_the_mail_state(
    app: FastAPI, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    seed_world(session_factory, ["ok@example.org", "bad@example.org"])
    smtp.handler.script.rcpt["bad@example.org"] = "550 5.1.1 no such user here"
    build(settings, session_factory)
    send(settings, session_factory)
    with session_scope(session_factory) as s:
        s.add(JobRun(job="digest:send", status="ok", stats={"summary": "1 sent"}))
        s.add(MailAlert(kind="paused", message="Sending paused: test alert"))
    client = TestClient(app, base_url="https://testserver")  # the cookie is Secure when BASE_URL is https
    login = client.get("/admin")
    assert login.status_code == 401 and "Admin token" in login.text
    wrong = client.post("/admin/login", data={"token": "nope", "csrf_token": csrf_from(login.text)})
    assert wrong.status_code == 401
    ok = client.post(
        "/admin/login",
        data={"token": "admin-token-for-tests", "csrf_token": csrf_from(login.text)},
        follow_redirects=False,
    )
    assert ok.status_code == 303
    cookie = ok.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie and "admin-token-for-tests" not in cookie
    page = client.get("/admin")
    assert page.status_code == 200
    for expected in (
        "confirmed",
        "bad@example.org",
        "550",
        "no such user here",
        "digest:send",
        "Sending paused",
    ):
        assert expected in page.text
    resume = client.post("/admin/resume", data={"csrf_token": csrf_from(page.text)}, follow_redirects=False)
    assert resume.status_code == 303
    with session_scope(session_factory) as s:
        assert s.scalars(select(MailAlert.resolved_at)).one() is not None
        assert (
            s.scalars(select(Delivery.status).where(Delivery.recipient == "bad@example.org")).one()
            == "failed"
        )
    bearer = TestClient(app).get("/admin", headers={"Authorization": "Bearer admin-token-for-tests"})
    assert bearer.status_code == 200
    assert TestClient(app).post("/admin/resume", data={}).status_code == 401


def test_admin_is_off_without_a_token(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    settings = settings_for(tmp_path, admin_token="")
    assert (
        TestClient(make_app(settings, session_factory, make_sender(settings))).get("/admin").status_code
        == 404
    )
