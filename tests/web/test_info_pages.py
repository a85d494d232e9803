"""Search, status, about and API reference pages; cache invalidation; GETs never write."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.browse.cache import bump_generation
from app.db import Base, session_scope
from app.models import Paper, Topic
from tests.web.seed import Seeded


def test_search_page(client: TestClient) -> None:
    empty = client.get("/search")
    assert empty.status_code == 200 and "Or browse a topic" in empty.text
    html = client.get("/search", params={"q": "int8 matrix"}).text
    assert "1 result for “int8 matrix”" in html and "keyword search" in html
    assert "LLM.int8()" in html
    assert 'value="int8 matrix"' in html  # the query stays in the box
    filtered = client.get("/search", params={"q": "paper", "topic": "diffusion-models"}).text
    assert 'option value="diffusion-models" selected' in filtered
    assert "Paper 6 on diffusion models" in filtered and "Paper 1 on representation" not in filtered
    # The form sends its empty fields too: they mean "no filter".
    blank = client.get("/search?q=int8+matrix&topic=&from=&to=&category=")
    assert blank.status_code == 200 and "1 result for" in blank.text
    dated = client.get("/search?q=int8&from=2026-11-25&to=")
    assert dated.status_code == 200 and 'value="2026-11-25"' in dated.text
    assert client.get("/search?q=int8&from=25.11.2026").status_code == 422
    none = client.get("/search", params={"q": "zzzzunmatched"}).text
    assert "No papers match" in none
    assert client.get("/search", params={"q": "x", "category": "bad category!"}).status_code == 422
    assert client.get("/search", params={"q": "x", "topic": "nope"}).status_code == 404
    hostile = client.get("/search", params={"q": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)" not in hostile


def test_status_page(client: TestClient) -> None:
    client.app.state.clock = lambda: datetime(2026, 11, 27, 15, 0, tzinfo=UTC)  # type: ignore[attr-defined]
    html = client.get("/status").text
    assert "No announcement" in html and "Friday: arXiv does not announce on Fridays" in html
    assert "1 job failed on the last run" in html and "finds the details in the log" in html
    assert "ValueError" not in html and "not enough papers" not in html
    assert "pipeline:ingest" in html and "34 new, 0 updated" in html
    assert "arxiv_api" in html and "cache:generation" not in html
    assert "waiting for confirmation" in html


def test_about_page_states_the_real_weights(client: TestClient) -> None:
    from app.topics.trending import DEFAULT_WEIGHTS

    html = client.get("/about").text
    assert "How trending is ranked" in html and "How your digest is chosen" in html
    assert f"<td>{DEFAULT_WEIGHTS['week']['upvotes']}</td>" in html
    assert "8 weeks before" in html
    # The trend horizons as configured: what each compares, the papers and the change it needs.
    assert "<td>the last 13 weeks</td><td>the 26 weeks before</td><td>20</td><td>1.33×" in html
    assert "<td>the last 4 weeks</td><td>the 12 weeks before</td><td>10</td>" in html


def test_api_reference_page(client: TestClient) -> None:
    html = client.get("/api").text
    for path in ("/api/v1/papers", "/api/v1/trending", "/api/v1/search", "/api/v1/topics/{slug}/series"):
        assert f"{path}</code>" in html


def test_cache_serves_until_the_generation_moves(
    client: TestClient, seeded: Seeded, session_factory: sessionmaker[Session]
) -> None:
    assert "Quantization of large language models" in client.get("/topics").text
    with session_scope(session_factory) as session:
        topic = session.get(Topic, seeded.topics["quantization"])
        assert topic is not None
        topic.label = "Low-bit quantization"
    assert "Quantization of large language models" in client.get("/topics").text  # still the cached page
    with session_scope(session_factory) as session:
        bump_generation(session)
    html = client.get("/topics").text
    assert "Low-bit quantization" in html and "Quantization of large language models" not in html
    cache = client.app.state.browse_cache  # type: ignore[attr-defined]
    assert cache.hits >= 1 and cache.misses >= 2


def _counts(session: Session) -> dict[str, int]:
    return {
        t.name: int(session.scalar(select(func.count()).select_from(t)) or 0)
        for t in Base.metadata.sorted_tables
    }


def test_no_get_changes_state(client: TestClient, session_factory: sessionmaker[Session]) -> None:
    with session_scope(session_factory) as session:
        before = _counts(session)
        papers_updated = session.scalar(select(func.max(Paper.updated_at)))
    paths = [
        "/", "/?window=week", "/?window=month&page=2", "/?topic=quantization", "/?date=2026-11-23",
        "/topics", "/topics/quantization", "/topics/old-quant", "/papers/2611.10000", "/search?q=int8",
        "/status", "/about", "/api", "/feeds/trending.atom", "/feeds/topics/quantization.atom",
        "/feeds/topics.opml", "/feeds/subscriber/1-00000000000000000000000000000000.atom",
        "/api/v1/papers", "/api/v1/papers/2611.10000", "/api/v1/papers/2611.10000/similar", "/api/v1/topics",
        "/api/v1/topics/quantization", "/api/v1/topics/quantization/series", "/api/v1/trending",
        "/api/v1/search?q=int8", "/api/v1/status", "/topics/nope", "/api/v1/papers/nope",
    ]  # fmt: skip
    for path in paths:
        assert client.get(path).status_code < 500, path
    with session_scope(session_factory) as session:
        assert _counts(session) == before
        assert session.scalar(select(func.max(Paper.updated_at))) == papers_updated


def test_control_characters_in_urls_are_harmless_on_both_databases(client: TestClient) -> None:
    # PostgreSQL refuses NUL bytes in text parameters; they must never reach a query.
    assert client.get("/search", params={"q": "int8\x00"}).status_code == 200
    assert client.get("/search", params={"q": "x", "topic": "quant\x00"}).status_code == 404
    assert client.get("/topics/quant%00ization").status_code == 404
    assert client.get("/papers/2611.10000%00").status_code in (200, 404)
    assert client.get("/", params={"topic": "\x00"}).status_code == 404
    assert client.get("/api/v1/papers", params={"topic": "a\x00"}).status_code == 404
    assert client.get("/feeds/topics/%00.atom").status_code == 404
