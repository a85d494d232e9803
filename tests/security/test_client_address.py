"""Abuse limits that hold behind a proxy, on both subscribe doors, with single-use tokens.

* forwarded headers count only from TRUSTED_PROXIES: behind a load balancer each visitor has
  their own per-IP limit, and a visitor who sends X-Forwarded-For directly cannot pick one;
* an IPv6 client counts by its /64;
* the JSON API needs a token and applies the honeypot and minimum-time rules of the form;
* a subscribe token (form or API) works once, even when replayed in parallel.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.config import ConfigError, load_settings
from app.db import session_scope
from app.http.client import forwarded_client, limit_key
from app.mail.senders import make_sender
from app.models import Delivery, SubscribeAttempt
from tests.mail.mail_support import csrf_from, make_app, settings_for


def _app(factory: sessionmaker[Session], tmp: Path, **overrides: Any) -> FastAPI:
    settings = settings_for(tmp, **{"subscribe_ip_limit": 2, **overrides})
    return make_app(settings, factory, make_sender(settings))


def _count(factory: sessionmaker[Session], *where: Any) -> int:
    with session_scope(factory) as s:
        return int(
            s.scalar(select(func.count()).select_from(Delivery).where(Delivery.kind == "confirm", *where))
            or 0
        )


def _form_post(client: TestClient, email: str, headers: dict[str, str] | None = None) -> int:
    token = csrf_from(client.get("/subscribe", headers=headers).text)
    return client.post("/subscribe", data={"email": email, "csrf_token": token}, headers=headers).status_code


def test_behind_a_trusted_proxy_each_visitor_has_their_own_limit(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = _app(session_factory, tmp_path, trusted_proxies="10.0.0.0/8")
    balancer = TestClient(app, client=("10.0.0.5", 443))
    for visitor in ("192.0.2.10", "192.0.2.11", "192.0.2.12"):
        for n in range(2):
            forwarded = {"X-Forwarded-For": f"{visitor}, 10.0.0.9"}  # the client, then an inner proxy
            assert _form_post(balancer, f"{visitor}-{n}@example.org", forwarded) == 200
    assert _count(session_factory) == 6  # three visitors, two each: no one shares another's limit


def test_forwarded_headers_from_anyone_else_are_ignored(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = _app(session_factory, tmp_path, trusted_proxies="10.0.0.0/8")
    visitor = TestClient(app, client=("203.0.113.7", 5000))
    for n in range(5):
        spoofed = {"X-Forwarded-For": f"192.0.2.{n}"}  # a new made-up address each time
        assert _form_post(visitor, f"spoof{n}@example.org", spoofed) == 200
    assert _count(session_factory) == 2  # the limit of the real peer


def test_ipv6_clients_count_by_their_64(session_factory: sessionmaker[Session], tmp_path: Path) -> None:
    app = _app(session_factory, tmp_path)
    for n in range(5):  # five addresses of one /64
        assert (
            _form_post(TestClient(app, client=(f"2001:db8:1:2::{n + 1}", 5000)), f"v6-{n}@example.org") == 200
        )
    assert _count(session_factory) == 2
    assert _form_post(TestClient(app, client=("2001:db8:1:3::1", 5000)), "other@example.org") == 200
    assert _count(session_factory) == 3  # another /64 has its own limit


def test_forwarded_address_and_limit_key_rules() -> None:
    trusted = load_settings(trusted_proxies="10.0.0.0/8, fd00::/8").trusted_proxy_networks
    assert forwarded_client("10.1.2.3", "198.51.100.4, 10.0.0.2", trusted) == "198.51.100.4"
    assert (
        forwarded_client("10.1.2.3", "1.1.1.1, 198.51.100.4", trusted) == "198.51.100.4"
    )  # rightmost untrusted
    assert forwarded_client("203.0.113.9", "198.51.100.4", trusted) is None  # not a trusted peer
    assert forwarded_client("10.1.2.3", "not-an-address", trusted) is None
    assert limit_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd") == "2001:db8:1:2::/64"
    assert limit_key("::ffff:192.0.2.1") == "192.0.2.1" == limit_key("192.0.2.1")
    with pytest.raises(ConfigError, match="TRUSTED_PROXIES"):
        load_settings(trusted_proxies="10.0.0.0/8, a-host-name")


def _api_token(client: TestClient) -> str:
    answer = client.get("/api/v1/subscriptions/token")
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    token: str = answer.json()["token"]
    return token


def test_the_api_needs_a_token_and_applies_the_bot_rules(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    app = _app(session_factory, tmp_path)
    client = TestClient(app, client=("192.0.2.50", 1))
    assert client.post("/api/v1/subscriptions", json={"email": "a@example.org"}).status_code == 422
    forged = {"email": "a@example.org", "token": "forged"}
    assert client.post("/api/v1/subscriptions", json=forged).status_code == 403
    bot = {"email": "bot@example.org", "token": _api_token(client), "website": "http://spam.example"}
    human = {"email": "human@example.org", "token": _api_token(client)}
    bot_answer = client.post("/api/v1/subscriptions", json=bot)
    human_answer = client.post("/api/v1/subscriptions", json=human)
    assert bot_answer.status_code == human_answer.status_code == 202
    assert bot_answer.json() == human_answer.json()
    assert _count(session_factory) == 1  # only the human's confirmation

    slow = _app(session_factory, tmp_path / "slow", subscribe_min_seconds=30)
    quick = TestClient(slow, client=("192.0.2.51", 1))
    answer = quick.post(
        "/api/v1/subscriptions", json={"email": "fast@example.org", "token": _api_token(quick)}
    )
    assert answer.status_code == 202 and _count(session_factory) == 1  # too fast: a bot, nothing queued


@pytest.mark.parametrize("door", ["form", "api"])
def test_a_subscribe_token_works_once(
    session_factory: sessionmaker[Session], tmp_path: Path, door: str
) -> None:
    app = _app(session_factory, tmp_path, subscribe_ip_limit=50)
    client = TestClient(app, client=("192.0.2.60", 1))
    if door == "form":
        token = csrf_from(client.get("/subscribe").text)

        def post(i: int) -> int:
            data = {"email": f"replay{i}@example.org", "csrf_token": token}
            return client.post("/subscribe", data=data).status_code
    else:
        token = _api_token(client)

        def post(i: int) -> int:
            body = {"email": f"replay{i}@example.org", "token": token}
            return client.post("/api/v1/subscriptions", json=body).status_code

    accepted = 200 if door == "form" else 202
    statuses: list[int] = [0] * 6
    barrier = threading.Barrier(6)

    def replay(i: int) -> None:
        barrier.wait()
        statuses[i] = post(i)

    threads = [threading.Thread(target=replay, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert sorted(statuses) == [accepted] + [403] * 5
    assert post(99) == 403  # and later too
    with session_scope(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(SubscribeAttempt)) == 1
    assert _count(session_factory) == 1
