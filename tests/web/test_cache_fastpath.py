"""The cache's fast path: repeated GETs answered before routing, with the same headers and validators."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.browse.cache import bump_generation
from app.db import session_scope
from app.models import Topic
from tests.web.seed import Seeded


def test_repeat_is_identical_and_served_from_the_cache(client: TestClient) -> None:
    first = client.get("/api/v1/topics")
    cache = client.app.state.browse_cache  # type: ignore[attr-defined]
    hits = cache.hits
    second = client.get("/api/v1/topics")
    assert cache.hits == hits + 1
    assert second.content == first.content
    for name in (
        "etag",
        "cache-control",
        "content-type",
        "access-control-allow-origin",
        "content-security-policy",
    ):
        assert second.headers[name] == first.headers[name], name
    not_modified = client.get("/api/v1/topics", headers={"If-None-Match": first.headers["etag"]})
    assert not_modified.status_code == 304 and not_modified.headers["etag"] == first.headers["etag"]
    assert "content-type" not in not_modified.headers


def test_head_is_answered_from_a_cached_get(client: TestClient) -> None:
    page = client.get("/topics")
    head = client.head("/topics")
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == page.headers["etag"]
    assert head.headers["content-length"] == str(len(page.content))


def test_errors_are_not_kept(client: TestClient) -> None:
    cache = client.app.state  # type: ignore[attr-defined]
    assert client.get("/topics/nope").status_code == 404
    assert client.get("/topics/nope").status_code == 404
    assert client.get("/api/v1/papers/nope").headers["cache-control"] == "no-store"
    assert cache.browse_cache.hits == 0


def test_a_data_change_reaches_every_cached_url(
    client: TestClient, seeded: Seeded, session_factory: sessionmaker[Session]
) -> None:
    urls = ["/topics", "/api/v1/topics", "/feeds/topics.opml", "/topics/quantization", "/?window=week"]
    before = {url: client.get(url).text for url in urls}
    with session_scope(session_factory) as session:
        topic = session.get(Topic, seeded.topics["quantization"])
        assert topic is not None
        topic.label = "Weight quantization"
        bump_generation(session)
    for url in urls:
        after = client.get(url).text
        assert after != before[url] and "Weight quantization" in after, url


def test_private_feed_keeps_its_private_headers_on_repeat(
    client: TestClient, seeded: Seeded, session_factory: sessionmaker[Session]
) -> None:
    from app.browse.private_feed import feed_path
    from app.models import Subscriber
    from app.subscribers.tokens import TokenSigner

    settings = client.app.state.settings  # type: ignore[attr-defined]
    signer = TokenSigner.from_keys(settings.resolved_secret_key(), settings.secret_key_old)
    with session_scope(session_factory) as session:
        reader = session.query(Subscriber).filter_by(email="reader@example.org").one()
        path = feed_path(signer, reader.id, reader.link_key)
    for _ in range(2):
        response = client.get(path)
        assert response.status_code == 200
        assert response.headers["cache-control"] == "private, no-cache"
        assert response.headers["referrer-policy"] == "no-referrer"
