"""The preference centre and the feedback links, reached from a real digest."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.mail.senders import make_sender
from app.models import Feedback, Subscriber, SubscriberTopic, Topic
from tests.digest.digest_support import ENCODER, add_paper
from tests.mail.mail_support import (
    DAY,
    SmtpServer,
    build,
    csrf_from,
    make_app,
    path_of,
    seed_world,
    send,
    settings_for,
)


@pytest.fixture
def settings(smtp: SmtpServer, tmp_path: Path) -> Settings:
    return settings_for(tmp_path, smtp_url=smtp.url)


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    app = make_app(settings, session_factory, make_sender(settings))
    app.state.clock = lambda: DAY
    return app


def _first_digest(settings: Settings, factory: sessionmaker[Session], smtp: SmtpServer) -> dict[str, str]:
    seed_world(factory, ["reader@example.org"])
    build(settings, factory)
    send(settings, factory)
    text = smtp.received[-1].message.get_body(("plain",)).get_content().replace("\r\n", "\n")  # type: ignore[union-attr]
    pattern = r"^\s*(Preferences|View in browser|More like this|Less like this): (\S+)$"
    found = dict(re.findall(pattern, text, re.M))
    html = smtp.received[-1].message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    mute = re.search(r'href="(https://news\.example\.org/feedback/[^"]+)"[^>]*>Mute', html)
    assert mute
    return {k: path_of(v) for k, v in found.items()} | {"mute": path_of(mute.group(1))}


def _form(page: str) -> dict[str, object]:
    return {"csrf_token": csrf_from(page), "frequency": "daily", "send_hour": "7", "timezone": "UTC",
            "max_papers": "10", "include_trending": "1"}  # fmt: skip


def test_preferences_are_shown_saved_and_validated(
    app: FastAPI, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    links = _first_digest(settings, session_factory, smtp)
    app.state.encoder = ENCODER  # an encoder in this process: the interest vector is made on save
    client = TestClient(app)
    page = client.get(links["Preferences"])
    assert page.status_code == 200 and "reader@example.org" in page.text and "checked" in page.text
    assert page.headers["cache-control"] == "no-store" and page.headers["referrer-policy"] == "no-referrer"
    feed = re.search(r'href="https://news\.example\.org(/feeds/subscriber/[^"]+\.atom)"', page.text)
    assert feed, "the preferences page links the subscriber's private feed"
    atom = client.get(feed.group(1))
    assert atom.status_code == 200 and "<feed" in atom.text
    assert client.get(feed.group(1).replace("-", "-0", 1)).status_code == 404
    with session_scope(session_factory) as s:
        rl = s.scalars(select(Topic).where(Topic.slug == "reinforcement-learning")).one().id
    data = _form(page.text) | {"topics": [str(rl)], "keywords": "policy gradient, offline RL",
                               "interest": "robots that learn from logs", "frequency": "weekly",
                               "timezone": "Europe/Berlin", "send_hour": "6", "max_papers": "5",
                               "include_trending": ""}  # fmt: skip
    saved = client.post(links["Preferences"], data=data)
    assert saved.status_code == 200 and "Saved" in saved.text
    with session_scope(session_factory) as s:
        sub = s.scalars(select(Subscriber)).one()
        assert (sub.frequency, sub.timezone, sub.send_hour, sub.max_papers) == (
            "weekly",
            "Europe/Berlin",
            6,
            5,
        )
        assert sub.keywords == ["policy gradient", "offline RL"] and not sub.include_trending
        assert sub.interest_model == ENCODER.model_name and sub.interest_vector is not None
        assert s.scalars(select(SubscriberTopic.topic_id)).all() == [rl]
    bad = client.post(
        links["Preferences"],
        data=_form(page.text) | {"timezone": "Mars/Base", "send_hour": "25", "keywords": "x" * 70},
    )
    assert bad.status_code == 422 and "Nothing was saved" in bad.text and "Unknown time zone" in bad.text
    with session_scope(session_factory) as s:
        assert s.scalars(select(Subscriber.timezone)).one() == "Europe/Berlin"
    assert client.post(links["Preferences"], data={"frequency": "paused"}).status_code == 403


def test_preview_past_digest_export_and_delete(
    app: FastAPI, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    links = _first_digest(settings, session_factory, smtp)
    client = TestClient(app)
    past = client.get(links["View in browser"])
    assert past.status_code == 200 and "Low-bit quantization" in past.text
    assert "frame-ancestors 'self'" in past.headers["content-security-policy"]
    empty = client.get(links["Preferences"] + "/preview")  # everything new was already mailed
    assert empty.status_code == 200 and "Nothing new for you yet" in empty.text
    with session_scope(session_factory) as s:
        quant = s.scalars(select(Topic).where(Topic.slug == "quantization")).one()
        add_paper(
            s, "Quantization for the preview", day=(DAY + timedelta(days=1)).date(), topics={quant: 0.9}
        )
    app.state.clock = lambda: DAY + timedelta(days=1)
    preview = client.get(links["Preferences"] + "/preview")
    assert preview.status_code == 200 and "Quantization for the preview" in preview.text
    exported = client.get(links["Preferences"] + "/export")
    assert exported.headers["content-disposition"].startswith("attachment")
    data = json.loads(exported.text)
    assert data["email"] == "reader@example.org" and data["emails"][0]["kind"] == "digest"
    page = client.get(links["Preferences"]).text
    delete_token = re.findall(r'name="csrf_token" value="([^"]+)"', page)[-1]
    refused = client.post(links["Preferences"] + "/delete", data={"csrf_token": delete_token})
    assert refused.status_code == 422
    gone = client.post(links["Preferences"] + "/delete", data={"csrf_token": delete_token, "confirm": "yes"})
    assert gone.status_code == 200 and "Everything is deleted" in gone.text
    assert client.get(links["Preferences"]).status_code == 400
    with session_scope(session_factory) as s:
        assert s.scalars(select(Subscriber)).all() == []


def test_feedback_links_ask_then_apply_with_undo_and_shape_the_next_digest(
    app: FastAPI, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    links = _first_digest(settings, session_factory, smtp)
    client = TestClient(app)
    ask = client.get(links["mute"])
    assert (
        ask.status_code == 200 and "No more papers from the topic" in ask.text and "Quantization" in ask.text
    )
    with session_scope(session_factory) as s:
        assert s.scalars(select(Feedback)).all() == []  # the GET applied nothing
    applied = client.post(links["mute"], data={"csrf_token": csrf_from(ask.text)})
    assert applied.status_code == 200 and "Undo" in applied.text
    undone = client.post(links["mute"] + "/undo", data={"csrf_token": csrf_from(applied.text)})
    assert "Undone" in undone.text
    client.post(links["mute"], data={"csrf_token": csrf_from(undone.text)})
    more = client.get(links["More like this"])
    client.post(links["More like this"], data={"csrf_token": csrf_from(more.text)})
    with session_scope(session_factory) as s:
        assert sorted(f.kind for f in s.scalars(select(Feedback))) == ["more", "mute"]
        quant = s.scalars(select(Topic).where(Topic.slug == "quantization")).one()
        rl = s.scalars(select(Topic).where(Topic.slug == "reinforcement-learning")).one()
        sub = s.scalars(select(Subscriber)).one()
        s.add(SubscriberTopic(subscriber_id=sub.id, topic_id=rl.id))
        tomorrow = (DAY + timedelta(days=1)).date()
        add_paper(s, "Quantization you muted", day=tomorrow, topics={quant: 0.9})
        add_paper(s, "Policy learning you follow", day=tomorrow, topics={rl: 0.9})
    build(settings, session_factory, DAY + timedelta(days=1))
    send(settings, session_factory, DAY + timedelta(days=1))
    text = smtp.received[-1].message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Policy learning you follow" in text and "Quantization you muted" not in text
    assert client.post(links["mute"], data={}).status_code == 403
    assert client.get(links["mute"][:-4] + "AAAA").status_code == 400
