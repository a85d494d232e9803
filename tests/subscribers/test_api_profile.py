"""Profile fields of `POST /api/v1/subscriptions` on both databases: applied to a new (pending)
address, validated in one line, never applied to a confirmed subscriber."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.mail.senders import make_sender
from app.models import Subscriber
from tests.mail.mail_support import SmtpServer, make_app, settings_for


def test_profile_fields_apply_to_a_new_address_only(
    smtp: SmtpServer, session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    settings = settings_for(tmp_path, smtp_url=smtp.url)
    client = TestClient(make_app(settings, session_factory, make_sender(settings)))
    body = {
        "email": "reader@example.org",
        "keywords": ["GNN", "message passing"],
        "interest": "learning on graphs",
        "authors": ["Ada Lovelace"],
        "exclude": ["survey"],
    }
    assert client.post("/api/v1/subscriptions", json={**body, "token": _token(client)}).status_code == 202
    with session_scope(session_factory) as s:
        sub = s.scalars(select(Subscriber).where(Subscriber.email == "reader@example.org")).one()
        assert (sub.status, sub.keywords, sub.interest_text) == (
            "pending", ["GNN", "message passing"], "learning on graphs"
        )  # fmt: skip
        assert sub.authors == ["Ada Lovelace"] and sub.exclude_keywords == ["survey"]
        sub.status = "confirmed"
    again = client.post(
        "/api/v1/subscriptions", json={**body, "keywords": ["overwritten"], "token": _token(client)}
    )
    assert again.status_code == 202
    with session_scope(session_factory) as s:
        sub = s.scalars(select(Subscriber).where(Subscriber.email == "reader@example.org")).one()
        assert sub.keywords == ["GNN", "message passing"]  # a confirmed profile changes by its own link only
    bad = client.post(
        "/api/v1/subscriptions",
        json={**body, "email": "x@example.org", "authors": ["y" * 150], "token": _token(client)},
    )
    assert bad.status_code == 422 and "100 characters" in bad.text


def _token(client: TestClient) -> str:
    """A fresh single-use subscribe token, as an API client takes one before each request."""
    return str(client.get("/api/v1/subscriptions/token").json()["token"])
