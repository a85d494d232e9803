"""Atom feeds parsed with feedparser: trending, per topic, per subscriber; the OPML list."""

from __future__ import annotations

from datetime import UTC, datetime
from xml.etree import ElementTree as ET

import feedparser
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.browse.private_feed import feed_path, feed_token
from app.db import session_scope
from app.models import Digest, DigestItem, Subscriber, SubscriberTopic
from app.subscribers.tokens import TokenSigner
from tests.web.seed import HOSTILE_TITLE, Seeded

SITE = "https://papers.example.org"


def _parse(client: TestClient, path: str) -> feedparser.FeedParserDict:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/atom+xml")
    feed = feedparser.parse(response.content)
    assert not feed.bozo, feed.get("bozo_exception")
    return feed


def test_trending_feed(client: TestClient) -> None:
    feed = _parse(client, "/feeds/trending.atom?window=day")
    assert feed.version == "atom10"
    assert feed.feed.title == "papertrend: trending papers today"
    assert len(feed.entries) == 4
    assert [e.link for e in feed.entries] == [f"{SITE}/papers/2611.1000{n}" for n in (0, 1, 3, 2)]
    first = feed.entries[0]
    assert first.id == f"{SITE}/papers/2611.10000"
    assert first.title.startswith("ZeroQuant-FP")
    assert "O(n²)" in first.summary  # LaTeX made readable
    assert [t.term for t in first.tags] == ["quantization"]
    assert {(link.rel, link.href) for link in first.links} >= {
        ("related", "https://arxiv.org/pdf/2611.10000")
    }
    assert {link.href for link in first.links} >= {
        "https://arxiv.org/abs/2611.10000",
        "https://github.com/example/zeroquant",
    }
    assert first.authors[0]["name"] == "Author 0A"
    # A hostile title is text in the feed, never markup.
    assert HOSTILE_TITLE in [e.title for e in feed.entries]
    week = _parse(client, "/feeds/trending.atom?window=week")
    assert len(week.entries) == 8
    assert client.get("/feeds/trending.atom?window=year").status_code == 422


def test_topic_feed(client: TestClient) -> None:
    feed = _parse(client, "/feeds/topics/quantization.atom")
    assert feed.feed.title == "papertrend: Quantization of large language models"
    days = [e.published_parsed for e in feed.entries]
    assert days == sorted(days, reverse=True)  # newest first
    assert all(any(t.term == "quantization" for t in e.tags) for e in feed.entries)
    assert client.get("/feeds/topics/secret-topic.atom").status_code == 404
    assert client.get("/feeds/topics/nope.atom").status_code == 404


def test_feed_etag(client: TestClient) -> None:
    first = client.get("/feeds/topics/quantization.atom")
    assert (
        client.get(
            "/feeds/topics/quantization.atom", headers={"If-None-Match": first.headers["etag"]}
        ).status_code
        == 304
    )


def test_opml_lists_every_visible_topic(client: TestClient) -> None:
    response = client.get("/feeds/topics.opml")
    root = ET.fromstring(response.content)
    urls = [o.get("xmlUrl") for o in root.iter("outline") if o.get("xmlUrl")]
    # One folder per area (A–Z), then the techniques.
    assert urls == [
        f"{SITE}/feeds/topics/{s}.atom"
        for s in ("diffusion-models", "representation-learning", "quantization")
    ]
    body = root.find("body")
    assert body is not None
    folders = [o.get("text") for o in body]
    assert folders == ["Diffusion models", "Representation learning", "Techniques"]


def _signer(client: TestClient) -> TokenSigner:
    settings = client.app.state.settings  # type: ignore[attr-defined]
    return TokenSigner.from_keys(settings.resolved_secret_key(), settings.secret_key_old)


def test_subscriber_feed_shows_their_digest(
    client: TestClient, seeded: Seeded, session_factory: sessionmaker[Session]
) -> None:
    with session_scope(session_factory) as session:
        reader = session.query(Subscriber).filter_by(email="reader@example.org").one()
        digest = Digest(
            subscriber_id=reader.id, period="2026-11-25", frequency="daily", subject="Your papers"
        )
        session.add(digest)
        session.flush()
        session.add(
            DigestItem(
                digest_id=digest.id,
                paper_id=seeded.papers["2611.10001"],
                rank=1,
                score=0.9,
                reason="In Quantization",
            )
        )
        reader_id, link_key = reader.id, reader.link_key
    path = feed_path(_signer(client), reader_id, link_key)
    response = client.get(path)
    assert response.headers["cache-control"].startswith("private")
    assert response.headers["x-robots-tag"] == "noindex"
    feed = feedparser.parse(response.content)
    assert [e.id for e in feed.entries] == [f"{SITE}/papers/2611.10001"]
    assert feed.entries[0].summary.startswith("In Quantization. ")
    # A forged or altered token is a plain 404.
    forged = feed_token(TokenSigner(["another-key-entirely-" * 2]), reader_id, link_key)
    assert client.get(f"/feeds/subscriber/{forged}.atom").status_code == 404
    assert client.get(f"/feeds/subscriber/{reader_id}-{'0' * 32}.atom").status_code == 404
    assert client.get("/feeds/subscriber/junk.atom").status_code == 404


def test_subscriber_feed_before_any_digest_and_after_unsubscribing(
    client: TestClient, seeded: Seeded, session_factory: sessionmaker[Session]
) -> None:
    with session_scope(session_factory) as session:
        reader = session.query(Subscriber).filter_by(email="reader@example.org").one()
        session.add(SubscriberTopic(subscriber_id=reader.id, topic_id=seeded.topics["diffusion-models"]))
        reader_id, link_key = reader.id, reader.link_key
    client.app.state.clock = lambda: datetime(2026, 11, 25, 12, tzinfo=UTC)  # type: ignore[attr-defined]
    path = feed_path(_signer(client), reader_id, link_key)
    feed = feedparser.parse(client.get(path).content)
    assert feed.entries and all(
        e.summary.startswith("Trending this week in Diffusion models") for e in feed.entries
    )
    with session_scope(session_factory) as session:
        reader = session.get(Subscriber, reader_id)
        assert reader is not None
        reader.status = "unsubscribed"
    client.app.state.browse_cache.clear()  # type: ignore[attr-defined]
    assert client.get(path).status_code == 404
