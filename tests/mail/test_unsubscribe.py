"""Unsubscribing from a real digest: RFC 8058 one-click POST, GET safety, old links (requirements 21-25)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.mail.senders import make_sender
from app.models import Delivery, Subscriber
from app.models.subscriber import SubscriberEvent
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
    return make_app(settings, session_factory, make_sender(settings))


def _digest_links(settings: Settings, factory: sessionmaker[Session], smtp: SmtpServer) -> dict[str, str]:
    seed_world(factory, ["reader@example.org"])
    build(settings, factory)
    assert send(settings, factory).sent == 1
    msg = smtp.received[-1].message
    one_click = msg["List-Unsubscribe"].split(",")[0].strip().strip("<>")
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    prefs = next(line.split(": ", 1)[1] for line in text.splitlines() if line.startswith("Preferences: "))
    return {"one_click": path_of(one_click), "preferences": path_of(prefs)}


def _status(factory: sessionmaker[Session]) -> str:
    with session_scope(factory) as s:
        return s.scalars(select(Subscriber.status)).one()


@pytest.mark.parametrize("encoding", ["urlencoded", "multipart"])
def test_requirement_21_one_click_post_unsubscribes_without_cookies_or_csrf(
    encoding: str, app: FastAPI, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 21: one-click POST (urlencoded or multipart), no cookies/CSRF: 200/202, no Location."""
    links = _digest_links(settings, session_factory, smtp)
    client = TestClient(app)
    if encoding == "urlencoded":
        response = client.post(
            links["one_click"], data={"List-Unsubscribe": "One-Click"}, follow_redirects=False
        )
    else:
        response = client.post(
            links["one_click"], files={"List-Unsubscribe": (None, "One-Click")}, follow_redirects=False
        )
        assert response.request.headers["content-type"].startswith("multipart/form-data")
    assert response.status_code in (200, 202)
    assert "location" not in response.headers and "set-cookie" not in response.headers
    assert _status(session_factory) == "unsubscribed"


def test_requirement_22_repeated_one_click_post_is_200_and_records_one_event(
    app: FastAPI, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 22: a repeated one-click POST returns 200 and records no second unsubscribe event."""
    links = _digest_links(settings, session_factory, smtp)
    client = TestClient(app)
    for _ in range(3):
        assert client.post(links["one_click"], data={"List-Unsubscribe": "One-Click"}).status_code == 200
    with session_scope(session_factory) as s:
        kinds = s.scalars(select(SubscriberEvent.kind)).all()
    assert kinds.count("unsubscribed") == 1


def test_requirement_23_get_of_the_one_click_url_does_not_unsubscribe(
    app: FastAPI, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 23: a GET of the one-click URL does not unsubscribe (link scanners GET every URL)."""
    links = _digest_links(settings, session_factory, smtp)
    client = TestClient(app)
    for _ in range(3):
        page = client.get(links["one_click"])
        assert page.status_code == 200 and "Unsubscribe reader@example.org?" in page.text
    assert _status(session_factory) == "confirmed"
    # The page's own button posts to the same URL and works.
    assert client.post(links["one_click"], data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert _status(session_factory) == "unsubscribed"
    undo = client.get(links["one_click"])
    assert "Subscribe again" in undo.text
    client.post(links["one_click"] + "/undo", data={"csrf_token": csrf_from(undo.text)})
    assert _status(session_factory) == "confirmed"


def test_requirement_24_no_digest_after_unsubscribe_even_if_already_queued(
    app: FastAPI, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 24: after an unsubscribe no digest is sent, including deliveries already queued."""
    links = _digest_links(settings, session_factory, smtp)
    with session_scope(session_factory) as s:
        from app.models import Paper, PaperTopic

        topic_paper = s.scalars(select(PaperTopic)).first()
        assert topic_paper is not None
        paper = s.get(Paper, topic_paper.paper_id)
        assert paper is not None
    tomorrow = DAY + timedelta(days=1)
    with session_scope(session_factory) as s:
        from app.models import Topic
        from tests.digest.digest_support import add_paper

        quant = s.scalars(select(Topic).where(Topic.slug == "quantization")).one()
        add_paper(s, "Quantization, the next day", day=tomorrow.date(), topics={quant: 0.9})
    assert build(settings, session_factory, tomorrow).queued == 1  # queued before the unsubscribe
    TestClient(app).post(links["one_click"], data={"List-Unsubscribe": "One-Click"})
    report = send(settings, session_factory, tomorrow)
    assert report.sent == 0 and len(smtp.received) == 1
    with session_scope(session_factory) as s:
        statuses = sorted(s.scalars(select(Delivery.status)).all())
    assert statuses == ["sent", "skipped"]


def test_requirement_25_links_in_a_400_day_old_digest_still_work(
    app: FastAPI, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    """Requirement 25: unsubscribe and preference links in a 400-day-old digest still work."""
    links = _digest_links(settings, session_factory, smtp)
    app.state.clock = lambda: datetime.now(UTC) + timedelta(days=400)
    client = TestClient(app)
    prefs = client.get(links["preferences"])
    assert prefs.status_code == 200 and "reader@example.org" in prefs.text
    assert client.get(links["one_click"]).status_code == 200
    assert client.post(links["one_click"], data={"List-Unsubscribe": "One-Click"}).status_code == 200
    assert _status(session_factory) == "unsubscribed"


def test_forged_unsubscribe_link_changes_nothing(
    app: FastAPI, settings: Settings, smtp: SmtpServer, session_factory: sessionmaker[Session]
) -> None:
    links = _digest_links(settings, session_factory, smtp)
    forged = links["one_click"][:-3] + ("abc" if not links["one_click"].endswith("abc") else "xyz")
    response = TestClient(app).post(forged, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 400 and "does not work" in response.text
    assert _status(session_factory) == "confirmed"
