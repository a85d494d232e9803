"""Politeness and fault handling of the upstream clients, over httpx.MockTransport with a fake clock."""

from __future__ import annotations

import itertools
import threading
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest

from app.ingest.sources.arxiv_api import ArxivApiClient
from app.ingest.sources.arxiv_oai import ArxivOaiClient
from app.ingest.sources.arxiv_rss import ArxivRssClient
from app.ingest.sources.hf_daily import HfDailyClient
from app.ingest.sources.http import ArxivLimiter, SourceError
from tests.ingest.ingest_support import fixture_bytes
from tests.ingest.upstream import Upstream, json_reply, path, source_settings, xml

RSS_FILE = "laya-reader_rss_arxiv_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed4.xml"
API_PAGE = fixture_bytes("arxiv_api", "id_1605.08386.xml")
OAI_PAGE = fixture_bytes("arxiv_oai", "hepcrawl_arXiv_ListRecords_arxiv-physics-hep-th.xml")
HF_PAGE = fixture_bytes("hf_daily", "daily_papers_2024-10-25_first3.json")


def clients(up: Upstream, limiter: ArxivLimiter | None = None, **overrides: object):
    settings = source_settings(**overrides)
    limiter = limiter or up.limiter()
    kw = {"limiter": limiter, "sleep": up.clock.sleep}
    api = ArxivApiClient.from_settings(settings, up.transport, **kw)
    oai = ArxivOaiClient.from_settings(settings, up.transport, **kw)
    rss = ArxivRssClient.from_settings(settings, up.transport, **kw)
    hf = HfDailyClient.from_settings(settings, up.transport, sleep=up.clock.sleep)
    return api, oai, rss, hf


def test_one_arxiv_limiter_spaces_requests_3s_apart_across_sources() -> None:
    up = Upstream()
    up.on(path("/api/query"), xml(API_PAGE)).on(path("/oai"), xml(OAI_PAGE))
    up.on(path("/rss/cs.LG+cs.AI"), xml(fixture_bytes("arxiv_rss", RSS_FILE)))
    up.on(path("/daily_papers"), json_reply(HF_PAGE))
    api, oai, rss, hf = clients(up)
    for _ in range(3):
        api.page(id_list=["1605.08386"])
        oai.list_records(set_spec="cs")
        rss.feed(["cs.LG", "cs.AI"])
        up.clock.now += 1.0  # some work between requests: the limiter only waits for the rest
    arxiv_times = [t for t, request in up.calls if request.url.host != "hf.test"]
    assert len(arxiv_times) == 9
    gaps = [b - a for a, b in itertools.pairwise(arxiv_times)]
    assert min(gaps) >= 3.0 - 1e-9
    # Hugging Face is not arXiv: no waiting for it.
    waits_before = len(up.clock.sleeps)
    list(hf.daily_papers(month="2024-10"))
    assert len(up.clock.sleeps) == waits_before


def test_limiter_allows_one_request_at_a_time() -> None:
    limiter = ArxivLimiter(0.0)
    in_flight, peak, lock = [0], [0], threading.Lock()

    def slow(request: httpx.Request) -> httpx.Response:
        with lock:
            in_flight[0] += 1
            peak[0] = max(peak[0], in_flight[0])
        time.sleep(0.02)
        with lock:
            in_flight[0] -= 1
        return xml(API_PAGE)

    up = Upstream().on(path("/api/query"), slow)
    api, *_ = clients(up, limiter=limiter)
    threads = [threading.Thread(target=api.page, kwargs={"id_list": ["1605.08386"]}) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 1 and len(up.calls) == 4


def test_429_honours_retry_after_seconds() -> None:
    up = Upstream().on(path("/api/query"), xml(b"Rate exceeded", 429, **{"Retry-After": "7"}), xml(API_PAGE))
    api, *_ = clients(up)
    page = api.page(id_list=["1605.08386"])
    assert [r.arxiv_id for r in page.records] == ["1605.08386"]
    assert len(up.calls) == 2 and 7.0 in up.clock.sleeps
    assert up.calls[1][0] - up.calls[0][0] >= 7.0


def test_503_retry_after_as_http_date_and_plain_backoff() -> None:
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=20), usegmt=True)
    up = Upstream().on(
        path("/oai"),
        xml(b"busy", 503, **{"Retry-After": later}),
        xml(b"oops", 502),
        xml(b"oops", 500),
        xml(OAI_PAGE),
    )
    _, oai, *_ = clients(up, limiter=up.limiter(interval=0.0))  # only the retry waits are slept
    assert len(oai.list_records(set_spec="cs").records) == 3
    first, second, third = up.clock.sleeps
    assert 15 <= first <= 21  # the date, minus the moment it took to get here
    # Exponential backoff with jitter: base 2 s doubling, each wait between half and all of it.
    assert 2.0 <= second <= 4.0 and 4.0 <= third <= 8.0


def test_retry_after_beyond_the_budget_gives_up_with_a_clear_message() -> None:
    up = Upstream().on(path("/daily_papers"), json_reply(b"{}", 429))
    up.routes[0].replies = [httpx.Response(429, headers={"Retry-After": "3600"})]
    *_, hf = clients(up, http_retry_budget=60.0)
    with pytest.raises(SourceError, match="Retry-After"):
        list(hf.daily_papers(month="2024-10"))
    assert len(up.calls) == 1


def test_timeouts_retry_then_fail_with_the_reason() -> None:
    up = Upstream().on(
        path("/rss/cs.LG+cs.AI"), httpx.ReadTimeout("slow"), xml(fixture_bytes("arxiv_rss", RSS_FILE))
    )
    _, _, rss, _ = clients(up)
    assert len(rss.feed(["cs.LG", "cs.AI"]).records) == 4
    dead = Upstream().on(path("/rss/cs.LG+cs.AI"), httpx.ReadTimeout("slow"))
    _, _, rss, _ = clients(dead, http_max_retries=3)
    with pytest.raises(SourceError, match=r"timed out .*after 4 tries"):
        rss.feed(["cs.LG", "cs.AI"])
    assert len(dead.calls) == 4


def test_an_unreachable_host_fails_fast() -> None:
    up = Upstream().on(path("/api/query"), httpx.ConnectError("Name or service not known"))
    api, *_ = clients(up, http_max_retries=10)
    with pytest.raises(SourceError, match=r"cannot connect to arxiv\.test"):
        api.page(id_list=["1605.08386"])
    assert len(up.calls) == 3  # not 11: a dead host is not worth minutes of retries
    assert sum(w for w in up.clock.sleeps) < 20


def test_requests_name_the_product_and_the_operator() -> None:
    up = Upstream().on(path("/api/query"), xml(API_PAGE))
    api, *_ = clients(up)
    api.page(id_list=["1605.08386"])
    request = up.calls[0][1]
    agent = request.headers["User-Agent"]
    assert agent.startswith("papertrend/") and "mailto:ops@example.org" in agent
    assert api.fetcher.client.timeout.read == 30.0


def test_truncated_xml_is_fetched_again() -> None:
    data = fixture_bytes("arxiv_api", "search_testing_100.xml")
    up = Upstream().on(path("/api/query"), xml(data[:5000]), xml(data))
    api, *_ = clients(up)
    assert len(api.page(search_query="all:testing").records) == 100 and len(up.calls) == 2
    broken = Upstream().on(path("/api/query"), xml(data[:5000]))
    api, *_ = clients(broken)
    with pytest.raises(SourceError, match="unreadable"):
        api.page(search_query="all:testing")


def test_error_feed_becomes_arxivs_message() -> None:
    up = Upstream().on(path("/api/query"), xml(fixture_bytes("arxiv_api", "error_id_abc_http400.xml"), 400))
    api, *_ = clients(up)
    with pytest.raises(SourceError, match="arXiv API error: incorrect id format for abc"):
        api.page(id_list=["abc"])
    assert len(up.calls) == 1  # a 400 is not retried


def test_invalid_json_from_hugging_face() -> None:
    up = Upstream().on(path("/daily_papers"), json_reply(b'[{"paper": '))
    *_, hf = clients(up)
    with pytest.raises(SourceError, match="invalid JSON"):
        list(hf.daily_papers(month="2024-10"))
