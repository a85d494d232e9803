"""A fuzz pass over the forms and the JSON API bodies: no server error, nothing written on refusal.

hypothesis sends random text, control characters, huge values, wrong types and odd shapes to
the subscribe form, the JSON subscribe API, the preferences form and the bounce webhook of the
real app, on SQLite and on PostgreSQL. Every answer must be below 500, and an answer that
refuses the request (4xx) must leave every subscriber-related table as it was.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.http import state_of
from app.mail.senders import make_sender
from app.models import (
    Delivery,
    Feedback,
    SubscribeAttempt,
    Subscriber,
    SubscriberEvent,
    SubscriberTopic,
    Suppression,
    Topic,
    UsedFormToken,
)
from tests.digest.digest_support import add_subscriber
from tests.mail.mail_support import BASE_URL, csrf_from, make_app, settings_for

TABLES = (Subscriber, SubscribeAttempt, Delivery, Suppression, SubscriberEvent, Feedback, SubscriberTopic,
          UsedFormToken)  # fmt: skip
FUZZ = settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))

control = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x1F), max_size=20)
hostile = st.one_of(
    st.text(max_size=60),
    control,
    st.text(max_size=8).map(lambda s: s * 5_000),  # huge (past the body cap, some of them)
    st.emails(),
    st.sampled_from(["jörg@example.org", "a@b", "<script>alert(1)</script>@x.org", "' OR 1=1 --",
                     "x@example.org\r\nBcc: all@example.org", "\u202e@example.org", "ＡＢＣ@例え.jp"]),
)  # fmt: skip
scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), hostile)
json_values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=10,
)
field_lists = st.lists(hostile, max_size=5)


def _counts(factory: sessionmaker[Session]) -> dict[str, int]:
    with session_scope(factory) as s:
        return {m.__name__: int(s.scalar(select(func.count()).select_from(m)) or 0) for m in TABLES}


def _check(factory: sessionmaker[Session], before: dict[str, int], status: int, what: object) -> None:
    assert status < 500, what
    if status >= 400:
        assert _counts(factory) == before, (status, what)


@pytest.fixture
def app(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[FastAPI]:
    settings_ = settings_for(tmp_path, subscribe_ip_limit=100_000)
    with session_scope(session_factory) as s:
        s.add(Topic(slug="quantization", label="Quantization"))
    yield make_app(settings_, session_factory, make_sender(settings_))


@FUZZ
@given(
    email=hostile, topics=field_lists, website=st.one_of(st.just(""), hostile),
    token=st.one_of(st.just("valid"), hostile),
    extra=st.dictionaries(st.text(max_size=8), hostile, max_size=3),
)  # fmt: skip
def test_fuzz_the_subscribe_form(
    app: FastAPI, session_factory: sessionmaker[Session], email: str, topics: list[str], website: str,
    token: str, extra: dict[str, str],
) -> None:  # fmt: skip
    client = TestClient(app, client=("192.0.2.1", 1))
    if token == "valid":
        token = csrf_from(client.get("/subscribe").text)
    before = _counts(session_factory)
    data = {**extra, "email": email, "topics": topics, "website": website, "csrf_token": token}
    response = client.post("/subscribe", data=data)
    _check(session_factory, before, response.status_code, data)


@FUZZ
@given(body=st.one_of(json_values, st.fixed_dictionaries(
    {"email": st.one_of(hostile, json_values), "topics": st.one_of(field_lists, json_values),
     "token": st.one_of(st.just("valid"), json_values)},
    optional={"website": st.one_of(hostile, json_values), "other": json_values},
)))  # fmt: skip
def test_fuzz_the_subscribe_api(app: FastAPI, session_factory: sessionmaker[Session], body: Any) -> None:
    client = TestClient(app, client=("192.0.2.2", 1))
    if isinstance(body, dict) and body.get("token") == "valid":
        body["token"] = client.get("/api/v1/subscriptions/token").json()["token"]
    before = _counts(session_factory)
    response = client.post(
        "/api/v1/subscriptions", content=json.dumps(body), headers={"content-type": "application/json"}
    )
    _check(session_factory, before, response.status_code, body)


@pytest.fixture
def preferences_path(app: FastAPI, session_factory: sessionmaker[Session]) -> str:
    with session_scope(session_factory) as s:
        sub = add_subscriber(s, "reader@example.org")
        url = state_of(app).mail_setup.preferences_url(sub.id, sub.link_key)
    return url.removeprefix(BASE_URL)


@FUZZ
@given(
    fields=st.fixed_dictionaries({}, optional={name: hostile for name in (
        "keywords", "interest", "seeds", "frequency", "send_hour", "timezone", "max_papers",
        "include_trending", "include_likely")}),
    topics=field_lists, token=st.one_of(st.just("valid"), hostile),
)  # fmt: skip
def test_fuzz_the_preferences_form(
    app: FastAPI, session_factory: sessionmaker[Session], preferences_path: str, fields: dict[str, str],
    topics: list[str], token: str,
) -> None:  # fmt: skip
    client = TestClient(app)
    if token == "valid":
        token = csrf_from(client.get(preferences_path).text)
    before = _counts(session_factory)
    data = {**fields, "topics": topics, "csrf_token": token}
    response = client.post(preferences_path, data=data)
    _check(session_factory, before, response.status_code, data)


@FUZZ
@given(body=st.one_of(json_values, st.lists(st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["bounce", "complaint", "unsubscribe"]), json_values),
     "email": st.one_of(hostile, json_values)},
    optional={"permanent": json_values, "reason": json_values}), max_size=4)))  # fmt: skip
def test_fuzz_the_bounce_webhook(app: FastAPI, session_factory: sessionmaker[Session], body: Any) -> None:
    client = TestClient(app)
    before = _counts(session_factory)
    headers = {"authorization": "Bearer webhook-secret-for-tests", "content-type": "application/json"}
    response = client.post("/webhooks/bounces", content=json.dumps(body), headers=headers)
    _check(session_factory, before, response.status_code, body)
