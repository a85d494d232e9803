"""Key rotation keeps every link and the admin session working; presented secrets are compared safely;
a deleted subscriber's private feed stops at once (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.browse.private_feed import feed_path
from app.db import session_scope
from app.subscribers.tokens import TokenSigner
from tests.digest.digest_support import add_subscriber, add_topic
from tests.mail.mail_support import csrf_from, make_app, settings_for
from tests.security.support import STRONG, remote_client

OLD = "old-" + STRONG
NEW = "new-" + STRONG[::-1]
ADMIN = "admin-token-for-tests"


def _app(factory: sessionmaker[Session], tmp: Path, **overrides: Any) -> Any:
    app = make_app(settings_for(tmp, **overrides), factory, sender=None)
    app.state.clock = lambda: datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
    return app


@pytest.fixture
def reader(session_factory: sessionmaker[Session]) -> tuple[int, str]:
    with session_scope(session_factory) as session:
        topic = add_topic(session, "Quantization")
        subscriber = add_subscriber(session, "reader@example.org", topics=[topic])
        return subscriber.id, subscriber.link_key


def test_key_rotation_keeps_links_feeds_and_admin_sessions(
    session_factory: sessionmaker[Session], tmp_path: Path, reader: tuple[int, str]
) -> None:
    sid, key = reader
    old_signer = TokenSigner.from_keys(OLD)
    before = remote_client(_app(session_factory, tmp_path, secret_key=OLD))
    form = before.get("/admin")
    login = before.post(
        "/admin/login", data={"token": ADMIN, "csrf_token": csrf_from(form.text)}, follow_redirects=False
    )
    assert login.status_code == 303
    cookie = before.cookies.get("papertrend_admin")
    assert cookie

    links = {
        "feed": feed_path(old_signer, sid, key),
        "preferences": "/preferences/" + old_signer.preferences_token(sid, key),
        "unsubscribe": "/unsubscribe/" + old_signer.unsubscribe_token(sid, key),
    }
    rotated = _app(session_factory, tmp_path, secret_key=NEW, secret_key_old=OLD)
    after = TestClient(rotated, base_url="https://papers.example.org", cookies={"papertrend_admin": cookie})
    for name, path in links.items():
        assert after.get(path).status_code == 200, name
    assert after.get("/admin").status_code == 200  # the session made under the old key
    # New links are signed with the new key and work too.
    new_signer = TokenSigner.from_keys(NEW)
    assert after.get(feed_path(new_signer, sid, key)).status_code == 200

    # Once the old key is dropped, what it signed stops working.
    done = _app(session_factory, tmp_path, secret_key=NEW)
    finished = TestClient(done, base_url="https://papers.example.org", cookies={"papertrend_admin": cookie})
    assert finished.get(links["feed"]).status_code == 404
    assert finished.get(links["preferences"]).status_code == 400
    assert finished.get("/admin").status_code == 401


def test_a_deleted_subscribers_private_feed_stops_at_once(
    session_factory: sessionmaker[Session], tmp_path: Path, reader: tuple[int, str]
) -> None:
    sid, key = reader
    app = _app(session_factory, tmp_path)
    signer = TokenSigner.from_keys(app.state.settings.resolved_secret_key())
    client = remote_client(app)
    feed = feed_path(signer, sid, key)
    assert client.get(feed).status_code == 200
    preferences = "/preferences/" + signer.preferences_token(sid, key)
    page = client.get(preferences).text
    delete_form = page.split('action="' + preferences + '/delete"', 1)[1]
    deleted = client.post(
        preferences + "/delete", data={"csrf_token": csrf_from(delete_form), "confirm": "yes"}
    )
    assert deleted.status_code == 200 and "deleted" in deleted.text.lower()
    assert client.get(feed).status_code == 404  # same moment: nothing served from a cache


def test_private_feeds_are_revalidated_not_kept(
    session_factory: sessionmaker[Session], tmp_path: Path, reader: tuple[int, str]
) -> None:
    sid, key = reader
    app = _app(session_factory, tmp_path)
    signer = TokenSigner.from_keys(app.state.settings.resolved_secret_key())
    client = remote_client(app)
    first = client.get(feed_path(signer, sid, key))
    assert (
        first.headers["cache-control"] == "private, no-cache" and first.headers["x-robots-tag"] == "noindex"
    )
    again = client.get(feed_path(signer, sid, key), headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304


@pytest.mark.parametrize("presented", ["jörg", "Bearer-ünïcødé-✓", "\u00ff" * 40])
def test_non_ascii_secrets_are_a_plain_no(
    session_factory: sessionmaker[Session], tmp_path: Path, presented: str
) -> None:
    """hmac.compare_digest raises on non-ASCII text; every secret comparison answers 401 instead."""
    app = _app(session_factory, tmp_path)
    client = remote_client(app, raise_server_exceptions=False)
    raw = presented.encode()  # as a client would send the bytes
    assert client.get("/admin", headers={"Authorization": b"Bearer " + raw}).status_code == 401
    form = client.get("/admin")
    login = client.post("/admin/login", data={"token": presented, "csrf_token": csrf_from(form.text)})
    assert login.status_code == 401
    for header in (
        {"X-Webhook-Secret": raw},
        {"Authorization": b"Bearer " + raw},
        {"X-Signature": b"sha256=" + raw},
    ):
        answer = client.post("/webhooks/bounces", content=b"[]", headers=header)
        assert answer.status_code == 401, header
    other = remote_client(app, raise_server_exceptions=False)
    other.cookies.set("papertrend_admin", "x")
    assert other.get("/admin").status_code == 401
