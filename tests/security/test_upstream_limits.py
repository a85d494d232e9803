"""An upstream cannot make us read without end or follow it elsewhere; a search cannot grow without bound.

The upstream side runs the real Fetcher over httpx.MockTransport (the network edge) with a fake
clock; the search side parses real queries and runs them on both databases.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.embed.query_parse import MAX_PHRASE_WORDS, MAX_PHRASES, parse_query, tsquery
from app.ingest.sources.http import ARXIV_HOSTS, Fetcher, SourceError, make_client
from tests.ingest.upstream import FakeClock

MB = 1024 * 1024


def _fetcher(handler: object, clock: FakeClock | None = None, **kw: object) -> Fetcher:
    clock = clock or FakeClock()
    client = make_client(timeout=5, contact="ops@example.org", transport=httpx.MockTransport(handler))  # type: ignore[arg-type]
    return Fetcher(client, max_retries=2, retry_budget=10, sleep=clock.sleep, clock=clock, **kw)  # type: ignore[arg-type]


def test_a_response_past_the_size_cap_is_abandoned() -> None:
    declared = _fetcher(lambda r: httpx.Response(200, content=b"x" * (2 * MB)), max_bytes=MB)
    with pytest.raises(SourceError, match="HTTP_MAX_BYTES"):
        declared.get("https://export.arxiv.org/api/query")

    def stream(_: httpx.Request) -> httpx.Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(64):
                yield b"y" * 65536

        return httpx.Response(200, content=chunks())  # chunked: no Content-Length to trust

    with pytest.raises(SourceError, match="HTTP_MAX_BYTES"):
        _fetcher(stream, max_bytes=MB).get("https://export.arxiv.org/api/query")


def test_a_compressed_bomb_counts_at_its_real_size() -> None:
    bomb = gzip.compress(b"\0" * (8 * MB))
    assert len(bomb) < MB // 10
    fetcher = _fetcher(
        lambda r: httpx.Response(200, content=bomb, headers={"Content-Encoding": "gzip"}), max_bytes=MB
    )
    with pytest.raises(SourceError, match="HTTP_MAX_BYTES"):
        fetcher.get("https://huggingface.co/api/daily_papers")


def test_a_response_within_the_cap_arrives_whole_and_decoded() -> None:
    body = b'{"ok": true}' * 1000
    fetcher = _fetcher(
        lambda r: httpx.Response(200, content=gzip.compress(body), headers={"Content-Encoding": "gzip"})
    )
    response = fetcher.get("https://huggingface.co/api/daily_papers")
    assert response.content == body and response.json is not None


def test_a_dripping_server_hits_the_total_deadline() -> None:
    clock = FakeClock()

    def drip(_: httpx.Request) -> httpx.Response:
        def chunks() -> Iterator[bytes]:
            for _ in range(1000):
                clock.now += 1.0  # each byte takes a second: no single read times out
                yield b"."

        return httpx.Response(200, content=chunks())

    with pytest.raises(SourceError, match="HTTP_DEADLINE"):
        _fetcher(drip, clock, deadline=30).get("https://export.arxiv.org/api/query")


def test_redirects_stay_with_the_source() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/moved":
            return httpx.Response(301, headers={"Location": "https://arxiv.org/api/query?x=1"})
        if request.url.path == "/same":
            return httpx.Response(302, headers={"Location": "/api/query"})
        if request.url.path == "/away":
            return httpx.Response(302, headers={"Location": "https://evil.example/steal"})
        if request.url.path == "/down":
            return httpx.Response(302, headers={"Location": "http://export.arxiv.org/api/query"})
        if request.url.path == "/loop":
            return httpx.Response(302, headers={"Location": "/loop"})
        return httpx.Response(200, text=f"final {request.url.host}{request.url.path}")

    fetcher = _fetcher(handler, redirect_hosts=ARXIV_HOSTS)
    assert fetcher.get("https://export.arxiv.org/same").text == "final export.arxiv.org/api/query"
    assert fetcher.get("https://export.arxiv.org/moved").text == "final arxiv.org/api/query"
    with pytest.raises(SourceError, match="not its own"):
        fetcher.get("https://export.arxiv.org/away")
    with pytest.raises(SourceError, match="plain http"):
        fetcher.get("https://export.arxiv.org/down")
    with pytest.raises(SourceError, match="redirects"):
        fetcher.get("https://export.arxiv.org/loop")
    with pytest.raises(SourceError, match="not its own"):
        _fetcher(handler).get("https://hf.example/moved")  # a host not on the source's list


def test_quoted_phrases_in_a_search_are_capped() -> None:
    words = " ".join(f"w{i}" for i in range(30))
    query = " ".join(f'"alpha{i} beta{i}"' for i in range(10)) + f' "{words}"'
    parsed = parse_query(query)
    assert len(parsed.phrases) == MAX_PHRASES and parsed.shortened
    assert all(len(p) <= MAX_PHRASE_WORDS for p in parsed.phrases)
    long_only = parse_query(f'"{words}"')
    assert long_only.phrases == (tuple(f"w{i}" for i in range(MAX_PHRASE_WORDS)),) and long_only.shortened
    expression = tsquery(parsed, any_term=False) or ""
    assert expression.count("<->") <= MAX_PHRASES * (MAX_PHRASE_WORDS - 1)
    assert not parse_query('"one phrase" and words').shortened


@pytest.fixture
def client(session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    from tests.web.apputil import build_app
    from tests.web.seed import seed

    with session_scope(session_factory) as session:
        seed(session)
    with TestClient(build_app(session_factory, tmp_path)) as test_client:
        yield test_client


def test_a_search_with_many_phrases_answers_and_says_what_it_used(client: TestClient) -> None:
    query = " ".join(f'"quantized model{i} weights"' for i in range(12))[:300]
    page = client.get("/search", params={"q": query})
    assert page.status_code == 200 and "quoted phrases" in page.text
    assert client.get("/api/v1/search", params={"q": query}).status_code == 200
