"""Live sources end to end over httpx.MockTransport with real recorded responses (both databases).

Where a scenario needs the same paper in two sources, the real responses are used with the
paper's id substituted (the fixtures were captured on different days and share no paper).
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.ingest.flows import run_all_sources, run_source
from app.ingest.parse.arxiv_api import parse_api_feed
from app.ingest.sources.hf_daily import hf_days
from app.models import JobRun, Paper, PaperSource, SourceState
from tests.ingest.ingest_support import fixture_bytes, paper
from tests.ingest.upstream import Upstream, json_reply, path, source_settings, xml

NOW = datetime(2026, 9, 24, 23, 0, tzinfo=UTC)
RSS_FILE = "laya-reader_rss_arxiv_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed4.xml"
SEARCH_100 = fixture_bytes("arxiv_api", "search_testing_100.xml")
LEGACY_10 = fixture_bytes("arxiv_api", "legacy_2016_search_au_del_maestro.xml")
OAI_RAW_6 = fixture_bytes("arxiv_oai", "mikesaelim_arXivRaw_ListRecordsResponse.xml")
OAI_TH_3 = fixture_bytes("arxiv_oai", "hepcrawl_arXiv_ListRecords_arxiv-physics-hep-th.xml")
OAI_EX_3 = fixture_bytes("arxiv_oai", "hepcrawl_arXiv_ListRecords_arxiv-physics-hep-ex.xml")
HF_3 = fixture_bytes("hf_daily", "daily_papers_2024-10-25_first3.json")


def run(factory: sessionmaker[Session], up: Upstream, name: str, **kw: object):
    settings = kw.pop("settings", None) or source_settings()
    return run_source(
        factory,
        settings,
        name,
        now=NOW,
        transport=up.transport,
        limiter=up.limiter(),
        sleep=up.clock.sleep,
        **kw,
    )


def count(factory: sessionmaker[Session], model: type = Paper) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model)) or 0


def watermark(factory: sessionmaker[Session], source: str) -> str | None:
    with factory() as s:
        state = s.get(SourceState, source)
        return state.watermark if state else None


def test_api_pages_duplicates_and_a_second_run(session_factory: sessionmaker[Session]) -> None:
    up = Upstream()
    up.on(path("/api/query", start="0"), xml(SEARCH_100))
    up.on(path("/api/query", start="100"), xml(SEARCH_100))  # the same papers again on the next page
    up.on(path("/api/query", start="200"), xml(LEGACY_10))
    options = {"since": datetime(1990, 1, 1, tzinfo=UTC), "max_results": 210}
    settings = source_settings(arxiv_page_size=100)
    report = run(session_factory, up, "arxiv_api", settings=settings, options=options)
    assert not report.failed, report.errors
    assert (report.fetched, report.new, report.unchanged) == (210, 110, 100)
    assert count(session_factory) == 110 and report.requests == 3
    first = up.params(0)
    assert first["search_query"] == "cat:cs.LG OR cat:cs.AI" and first["sortBy"] == "lastUpdatedDate"
    assert (first["start"], first["max_results"], first["sortOrder"]) == ("0", "100", "descending")
    newest = max(r.updated_at_source for r in parse_api_feed(SEARCH_100).records if r.updated_at_source)
    assert watermark(session_factory, "arxiv_api") == newest.isoformat() == "2026-04-03T20:24:19+00:00"
    again = run(session_factory, up, "arxiv_api", settings=settings, options=options)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 210)
    with session_factory() as s:
        runs = s.scalars(select(JobRun).where(JobRun.job == "ingest:arxiv_api")).all()
        assert [r.status for r in runs] == ["ok", "ok"] and runs[0].stats["new"] == 110


def test_api_stops_at_the_watermark(session_factory: sessionmaker[Session]) -> None:
    up = Upstream().on(path("/api/query"), xml(SEARCH_100))
    options = {"since": datetime(2025, 1, 1, tzinfo=UTC)}
    report = run(
        session_factory, up, "arxiv_api", settings=source_settings(arxiv_page_size=100), options=options
    )
    assert report.requests == 1 and report.fetched == 100  # older entries on the page: no next page


def test_version_bump_marks_text_for_re_embedding(session_factory: sessionmaker[Session]) -> None:
    v1 = fixture_bytes("arxiv_api", "id_1605.08386.xml")
    v2 = v1.replace(b"1605.08386v1", b"1605.08386v2").replace(
        b"<updated>2016-05-26T17:59:46Z</updated>\n    <link",
        b"<updated>2016-09-01T10:00:00Z</updated>\n    <link",
    )
    v2 = v2.replace(b"Graphs on lattice points are studied", b"Graphs on integer lattice points are studied")
    up = Upstream().on(path("/api/query"), xml(v1), xml(v2), repeat_last=True)
    up.routes[0].repeat_last = False
    options = {"since": datetime(1990, 1, 1, tzinfo=UTC)}
    run(session_factory, up, "arxiv_api", options=options)
    with session_factory() as s:
        before = paper(s, "1605.08386")
        assert before.arxiv_version == 1
        old_hash = before.text_hash
    report = run(session_factory, up, "arxiv_api", options=options)
    assert report.updated == 1
    with session_factory() as s:
        after = paper(s, "1605.08386")
        assert after.arxiv_version == 2 and after.abstract.startswith("Graphs on integer lattice points")
        assert after.text_hash != old_hash
        assert after.updated_at_source == datetime(2016, 9, 1, 10, 0, tzinfo=UTC)
        assert after.published_at == datetime(2016, 5, 26, 17, 59, 46, tzinfo=UTC)


def test_rss_api_and_hf_merge_into_one_row(session_factory: sessionmaker[Session]) -> None:
    rss = fixture_bytes("arxiv_rss", RSS_FILE).replace(b"2609.26811", b"1605.08386")
    hf = HF_3.replace(b"2410.17243", b"1605.08386")
    up = Upstream()
    up.on(path("/rss/cs.LG+cs.AI"), xml(rss))
    up.on(path("/api/query"), xml(fixture_bytes("arxiv_api", "id_1605.08386.xml")))
    up.on(path("/daily_papers", date="2024-10-25"), json_reply(hf))
    assert not run(session_factory, up, "arxiv_rss").failed
    assert not run(
        session_factory, up, "arxiv_api", options={"since": datetime(1990, 1, 1, tzinfo=UTC)}
    ).failed
    assert not run(session_factory, up, "hf_daily", options={"days": [date(2024, 10, 25)]}).failed
    with session_factory() as s:
        rows = s.scalars(select(Paper).where(Paper.arxiv_id == "1605.08386")).all()
        assert len(rows) == 1
        p = rows[0]
        assert p.source == "arxiv_rss"  # the first source to see it created the row
        assert p.title == "Heat-bath random walks with Markov bases"  # arXiv API metadata
        assert p.categories == ["math.CO", "math.ST"] and p.primary_category == "math.CO"
        assert p.announced_date == date(2026, 9, 24)  # from the RSS listing
        assert (p.upvotes, p.comments_count, p.hf_date) == (64, 3, date(2024, 10, 25))  # from HF
        assert set(p.raw) == {"arxiv_rss", "arxiv_api", "hf_daily"}
        sources = s.scalars(select(PaperSource.source).where(PaperSource.paper_id == p.id)).all()
        assert sorted(sources) == ["arxiv_api", "arxiv_rss", "hf_daily"]
    assert count(session_factory) == 6  # the merged paper, 3 other RSS items, 2 other HF papers


def test_oai_follows_resumption_tokens_then_nothing_new(session_factory: sessionmaker[Session]) -> None:
    up = Upstream()
    up.on(path("/oai", resumptionToken="726959|1001"), xml(OAI_TH_3))
    up.on(path("/oai", metadataPrefix="arXiv"), xml(OAI_RAW_6))
    report = run(session_factory, up, "arxiv_oai")
    assert not report.failed and (report.fetched, report.new) == (9, 9)
    assert up.params(0) == {
        "verb": "ListRecords",
        "metadataPrefix": "arXiv",
        "set": "cs",
        "from": "2026-09-21",
    }
    assert up.params(1) == {"verb": "ListRecords", "resumptionToken": "726959|1001"}
    assert watermark(session_factory, "arxiv_oai") == "2026-09-24"
    with session_factory() as s:
        assert s.get(SourceState, "arxiv_oai").cursor is None
    none = Upstream().on(
        path("/oai"), xml(fixture_bytes("arxiv_oai", "mikesaelim_arXivRaw_ErrorResponseNoRecordsMatch.xml"))
    )
    quiet = run(session_factory, none, "arxiv_oai")
    assert not quiet.failed and quiet.fetched == 0 and "nothing new since 2026-09-24" in quiet.notes
    assert none.params(0)["from"] == "2026-09-24"


def test_interrupted_backfill_resumes_without_gaps_or_duplicates(
    session_factory: sessionmaker[Session],
) -> None:
    options = {"backfill": True, "from_date": date(2014, 10, 1)}
    broken = Upstream()
    broken.on(path("/oai", resumptionToken="726959|1001"), httpx.ConnectError("connection reset"))
    broken.on(path("/oai", metadataPrefix="arXiv"), xml(OAI_RAW_6))
    first = run(session_factory, broken, "arxiv_oai", options=options)
    assert first.failed and first.new == 6 and "cannot connect" in first.errors[-1]
    assert count(session_factory) == 6  # page 1 was committed with its cursor
    with session_factory() as s:
        assert s.get(SourceState, "arxiv_oai_backfill").cursor is not None
        failed = s.scalars(select(JobRun).where(JobRun.job == "ingest:arxiv_oai_backfill")).one()
        assert failed.status == "partial" and "cannot connect" in (failed.error or "")
    fixed = Upstream()
    fixed.on(path("/oai", resumptionToken="726959|1001"), xml(OAI_TH_3))
    fixed.on(path("/oai", metadataPrefix="arXiv"), xml(OAI_RAW_6))
    second = run(session_factory, fixed, "arxiv_oai", options=options)
    assert not second.failed and (second.new, second.fetched) == (3, 3)
    assert [c[1].url.params.get("resumptionToken") for c in fixed.calls] == [
        "726959|1001"
    ]  # page 1 not re-read
    assert any("resumed" in note for note in second.notes)
    with session_factory() as s:
        ids = s.scalars(select(Paper.arxiv_id)).all()
        assert len(ids) == len(set(ids)) == 9
        assert s.get(SourceState, "arxiv_oai_backfill").cursor is None
        assert (
            s.get(SourceState, "arxiv_oai").watermark == "2026-09-24"
        )  # the daily harvest goes on from here


def test_expired_resumption_token_restarts_the_harvest(session_factory: sessionmaker[Session]) -> None:
    options = {"backfill": True, "from_date": date(2014, 10, 1)}
    broken = Upstream()
    broken.on(path("/oai", resumptionToken="726959|1001"), httpx.ConnectError("down"))
    broken.on(path("/oai", metadataPrefix="arXiv"), xml(OAI_RAW_6))
    run(session_factory, broken, "arxiv_oai", options=options)
    expired = fixture_bytes("arxiv_oai", "mikesaelim_arXivRaw_ErrorResponseBadResumptionToken.xml")
    up = Upstream()
    up.on(path("/oai", resumptionToken="726959|1001"), xml(expired), xml(OAI_EX_3))
    up.routes[0].repeat_last = False
    up.on(path("/oai", metadataPrefix="arXiv"), xml(OAI_RAW_6))
    report = run(session_factory, up, "arxiv_oai", options=options)
    assert not report.failed and any("expired" in n for n in report.notes)
    assert [dict(c[1].url.params).get("from") for c in up.calls] == [None, "2014-10-01", None]
    assert count(session_factory) == 9


def test_rss_empty_feed_is_normal(session_factory: sessionmaker[Session]) -> None:
    data = fixture_bytes("arxiv_rss", RSS_FILE)
    empty = data[: data.index(b"<item>")] + data[data.rindex(b"</item>") + len(b"</item>") :]
    up = Upstream().on(path("/rss/cs.LG+cs.AI"), xml(empty))
    report = run(session_factory, up, "arxiv_rss")
    assert not report.failed and report.fetched == 0 and report.status == "ok"
    assert any("weekend or arXiv holiday" in n for n in report.notes)
    with session_factory() as s:
        assert s.scalars(select(JobRun)).one().status == "ok"


def test_rss_counts_by_announce_type(session_factory: sessionmaker[Session]) -> None:
    up = Upstream().on(path("/rss/cs.LG+cs.AI"), xml(fixture_bytes("arxiv_rss", RSS_FILE)))
    report = run(session_factory, up, "arxiv_rss")
    assert report.new == 4 and "1 cross, 2 new, 1 replace" in report.notes
    assert watermark(session_factory, "arxiv_rss") == "2026-09-24"


def test_hf_refresh_window_and_upvote_updates(session_factory: sessionmaker[Session]) -> None:
    up = Upstream()
    up.on(
        path("/daily_papers", date="2024-10-25"),
        json_reply(HF_3),
        json_reply(HF_3.replace(b'"upvotes":64', b'"upvotes":70')),
    )
    up.routes[0].repeat_last = False
    up.on(path("/daily_papers"), json_reply(b"[]"))
    settings = source_settings(hf_refresh_days=2)
    now = datetime(2024, 10, 26, 12, 0, tzinfo=UTC)
    report = run_source(
        session_factory, settings, "hf_daily", now=now, transport=up.transport, sleep=up.clock.sleep
    )
    assert not report.failed and report.new == 3
    assert [up.params(i)["date"] for i in range(len(up.calls))] == ["2024-10-24", "2024-10-25", "2024-10-26"]
    assert watermark(session_factory, "hf_daily") == "2024-10-26"
    again = run_source(
        session_factory, settings, "hf_daily", now=now, transport=up.transport, sleep=up.clock.sleep
    )
    assert again.updated == 1
    with session_factory() as s:
        assert paper(s, "2410.17243").upvotes == 70
    assert hf_days("2024-10-01", date(2024, 10, 26), 2)[0] == date(2024, 10, 1)


def test_a_failing_source_never_stops_the_others(
    session_factory: sessionmaker[Session], caplog: pytest.LogCaptureFixture
) -> None:
    up = Upstream()
    up.on(path("/rss/cs.LG+cs.AI"), httpx.ConnectError("Name or service not known"))
    up.on(path("/api/query"), xml(b"upstream broken", 503))
    up.on(path("/oai"), xml(OAI_TH_3))
    up.on(path("/daily_papers"), json_reply(b"{not json"))
    caplog.set_level(logging.INFO, logger="papertrend.ingest")
    settings = source_settings(http_max_retries=2)
    reports = run_all_sources(
        session_factory, settings, now=NOW, transport=up.transport, limiter=up.limiter(), sleep=up.clock.sleep
    )
    assert [(r.source, r.failed) for r in reports] == [
        ("arxiv_rss", True),
        ("arxiv_api", True),
        ("arxiv_oai", False),
        ("hf_daily", True),
    ]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert len(errors) == 3
    assert errors[0].startswith("ingest arxiv_rss failed: cannot connect to rss.arxiv.test")
    assert "HTTP 503" in errors[1] and "invalid JSON" in errors[2]
    assert count(session_factory) == 3
    with session_factory() as s:
        runs = {r.job: r.status for r in s.scalars(select(JobRun))}
        assert runs == {
            "ingest:arxiv_rss": "failed",
            "ingest:arxiv_api": "failed",
            "ingest:arxiv_oai": "ok",
            "ingest:hf_daily": "failed",
        }
        assert s.get(SourceState, "arxiv_api") is None  # no watermark moved for a failed source


def test_timeouts_leave_the_database_consistent_and_the_next_run_completes(
    session_factory: sessionmaker[Session],
) -> None:
    up = Upstream()
    up.on(path("/api/query", start="0"), xml(SEARCH_100))
    up.on(path("/api/query", start="100"), httpx.ReadTimeout("read timed out"))
    options = {"since": datetime(1990, 1, 1, tzinfo=UTC), "max_results": 110}
    settings = source_settings(arxiv_page_size=100, http_max_retries=1)
    report = run(session_factory, up, "arxiv_api", settings=settings, options=options)
    assert report.failed and report.new == 100 and "timed out" in report.errors[-1]
    assert watermark(session_factory, "arxiv_api") is None  # not advanced past the gap
    good = Upstream()
    good.on(path("/api/query", start="0"), xml(SEARCH_100))
    good.on(path("/api/query", start="100"), xml(LEGACY_10))
    report = run(session_factory, good, "arxiv_api", settings=settings, options=options)
    assert not report.failed and (report.new, report.unchanged) == (10, 100)
    assert count(session_factory) == 110 and watermark(session_factory, "arxiv_api") is not None


def test_dry_run_writes_nothing(session_factory: sessionmaker[Session]) -> None:
    up = Upstream().on(path("/rss/cs.LG+cs.AI"), xml(fixture_bytes("arxiv_rss", RSS_FILE)))
    report = run(session_factory, up, "arxiv_rss", dry_run=True)
    assert report.new == 4 and count(session_factory) == 0 and count(session_factory, JobRun) == 0
    assert "would add 4 new" in report.summary()
