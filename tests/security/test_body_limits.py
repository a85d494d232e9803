"""Request bodies are capped per route before they are read, chunked ones included; the bounce
webhook checks its secret before it reads anything.

The real app is called as the ASGI server calls it, with a `receive` that counts what the app
pulled: a refused body must be refused after at most one chunk beyond its route's cap (or with
no read at all when its declared length is too large), and nothing may be written.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.http.limits import DEFAULT_BODY_LIMIT, WEBHOOK_BODY_LIMIT, body_limit
from app.mail.senders import make_sender
from app.models import Delivery, SubscribeAttempt, Subscriber, Suppression
from tests.mail.mail_support import make_app, settings_for

CHUNK = 16 * 1024
HUGE = 64 * 1024 * 1024
WEBHOOK_SECRET = "webhook-secret-for-tests"


class Body:
    """An ASGI `receive` that hands out `total` bytes in `CHUNK`s, counting what was pulled."""

    def __init__(self, total: int, payload: bytes = b"") -> None:
        self.total, self.payload, self.pulled, self.calls = total, payload, 0, 0

    async def __call__(self) -> dict[str, Any]:
        self.calls += 1
        if self.pulled >= self.total:
            await asyncio.sleep(3600)  # a client that sends nothing more (never reached when capped)
        size = min(CHUNK, self.total - self.pulled)
        head = self.payload[self.pulled : self.pulled + size]
        chunk = head + b"a" * (size - len(head))
        self.pulled += size
        return {"type": "http.request", "body": chunk, "more_body": self.pulled < self.total}


def call(
    app: FastAPI, path: str, body: Body, headers: dict[str, str], *, length: int | None = None
) -> tuple[int, bytes]:
    """One POST through the whole app (middleware included), as uvicorn would make it."""
    raw = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
    if length is not None:
        raw.append((b"content-length", str(length).encode()))
    else:
        raw.append((b"transfer-encoding", b"chunked"))
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
        "scheme": "https", "path": path, "raw_path": path.encode(), "query_string": b"",
        "root_path": "", "headers": [(b"host", b"papers.example.org"), *raw],
        "client": ("203.0.113.7", 40000), "server": ("papers.example.org", 443),
    }  # fmt: skip
    status: list[int] = []
    out: list[bytes] = []

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status.append(message["status"])
        elif message["type"] == "http.response.body":
            out.append(message.get("body", b""))

    async def run() -> None:
        await asyncio.wait_for(app(scope, body, send), timeout=60)

    # A loop of its own in a thread of its own: another test in this process (a browser test) may
    # keep an event loop running in the main thread.
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()
    return status[0], b"".join(out)


@pytest.fixture
def app(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[FastAPI]:
    settings = settings_for(tmp_path)
    yield make_app(settings, session_factory, make_sender(settings))


def _nothing_written(factory: sessionmaker[Session]) -> None:
    with session_scope(factory) as s:
        for model in (Subscriber, SubscribeAttempt, Delivery, Suppression):
            assert s.scalar(select(func.count()).select_from(model)) == 0, model.__name__


FORM = {"content-type": "application/x-www-form-urlencoded"}
JSON = {"content-type": "application/json"}
SIGNED = {"content-type": "application/json", "authorization": f"Bearer {WEBHOOK_SECRET}"}


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/subscribe", FORM), ("/api/v1/subscriptions", JSON), ("/webhooks/bounces", SIGNED)],
)
def test_a_declared_oversize_body_is_refused_without_reading_it(
    app: FastAPI, session_factory: sessionmaker[Session], path: str, headers: dict[str, str]
) -> None:
    body = Body(HUGE)
    status, _ = call(app, path, body, headers, length=body_limit(path) + 1)
    assert status == 413
    assert body.calls == 0  # not one byte was read
    _nothing_written(session_factory)


@pytest.mark.parametrize(
    ("path", "headers"),
    [("/subscribe", FORM), ("/api/v1/subscriptions", JSON), ("/webhooks/bounces", SIGNED)],
)
def test_a_chunked_64_mib_body_is_cut_off_at_the_routes_cap(
    app: FastAPI, session_factory: sessionmaker[Session], path: str, headers: dict[str, str]
) -> None:
    body = Body(HUGE)
    status, _ = call(app, path, body, headers)
    assert status == 413
    assert body.pulled <= body_limit(path) + CHUNK  # at most one chunk past the cap, never 64 MiB
    _nothing_written(session_factory)


def test_a_body_longer_than_its_declared_length_is_cut_off_too(
    app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    body = Body(HUGE)
    status, _ = call(app, "/api/v1/subscriptions", body, JSON, length=100)
    assert status == 413 and body.pulled <= DEFAULT_BODY_LIMIT + CHUNK
    _nothing_written(session_factory)


def test_caps_are_per_route() -> None:
    assert body_limit("/webhooks/bounces") == WEBHOOK_BODY_LIMIT > DEFAULT_BODY_LIMIT
    assert body_limit("/subscribe") == body_limit("/api/v1/subscriptions") == DEFAULT_BODY_LIMIT


@pytest.mark.parametrize(
    "headers",
    [
        {"content-type": "application/json"},
        {"content-type": "application/json", "authorization": "Bearer wrong-secret"},
        {"content-type": "application/json", "x-webhook-secret": "wrong-secret"},
    ],
)
def test_the_webhook_checks_its_secret_before_reading_the_body(
    app: FastAPI, session_factory: sessionmaker[Session], headers: dict[str, str]
) -> None:
    event = json.dumps([{"type": "bounce", "email": "victim@example.org", "permanent": True}]).encode()
    body = Body(len(event), event)
    status, _ = call(app, "/webhooks/bounces", body, headers, length=len(event))
    assert status == 401
    assert body.calls == 0  # a stranger's request cost nothing but its headers
    _nothing_written(session_factory)


def test_a_webhook_body_within_its_cap_is_still_taken(
    app: FastAPI, session_factory: sessionmaker[Session]
) -> None:
    event = json.dumps({"type": "complaint", "email": "victim@example.org"}).encode()
    status, answer = call(app, "/webhooks/bounces", Body(len(event), event), SIGNED, length=len(event))
    assert status == 200, answer
    with session_scope(session_factory) as s:
        assert s.scalar(select(func.count()).select_from(Suppression)) == 1
