"""Parsers of the live sources against real recorded responses, and against garbage (hypothesis)."""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import UTC, date, datetime
from xml.sax.saxutils import escape

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.ingest.parse.arxiv_api import ApiErrorFeed, parse_api_feed
from app.ingest.parse.arxiv_oai import OaiError, parse_oai_response
from app.ingest.parse.arxiv_rss import parse_rss_feed
from app.ingest.parse.common import ParseError
from app.ingest.parse.hf_daily import parse_hf_response
from tests.ingest.ingest_support import fixture_bytes

RSS_FILE = "laya-reader_rss_arxiv_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed4.xml"


def test_api_search_page_of_100() -> None:
    page = parse_api_feed(fixture_bytes("arxiv_api", "search_testing_100.xml"))
    assert page.total == 214881 and len(page.records) == 100 and page.errors == []
    first = page.records[0]
    assert (first.arxiv_id, first.arxiv_version) == ("2202.12139", 1)
    assert (
        first.title
        == "Testing Deep Learning Models: A First Comparative Study of Multiple Testing Techniques"
    )
    assert first.authors == ["Mohit Kumar Ahuja", "Arnaud Gotlieb", "Helge Spieker"]
    assert first.categories == ["cs.SE", "cs.LG"] and first.primary_category == "cs.SE"
    assert first.published_at == datetime(2022, 2, 24, 15, 5, 19, tzinfo=UTC)
    assert first.comment == "Artificial Intelligence in Software Testing 2022 workshop @ ICST 2022"
    assert (
        first.abs_url == "https://arxiv.org/abs/2202.12139"
        and first.pdf_url == "https://arxiv.org/pdf/2202.12139"
    )
    assert first.raw["doi"] == "10.1109/ICSTW55395.2022.00035"
    assert len({r.arxiv_id for r in page.records}) == 100


def test_api_legacy_format_and_single_id() -> None:
    legacy = parse_api_feed(fixture_bytes("arxiv_api", "legacy_2016_search_au_del_maestro.xml"))
    assert legacy.total == 31 and len(legacy.records) == 10
    assert legacy.records[0].primary_category == "cond-mat.mes-hall"
    assert legacy.records[0].comment == "26 pages, 10 figures"
    one = parse_api_feed(fixture_bytes("arxiv_api", "id_1605.08386.xml"))
    assert [r.arxiv_id for r in one.records] == ["1605.08386"]
    assert one.records[0].categories == ["math.CO", "math.ST"]


def test_api_empty_and_error_feeds() -> None:
    empty = parse_api_feed(fixture_bytes("arxiv_api", "empty_id_0000.0000.xml"))
    assert empty.total == 0 and empty.records == [] and empty.errors == []
    with pytest.raises(ApiErrorFeed, match="incorrect id format for abc"):
        parse_api_feed(fixture_bytes("arxiv_api", "error_id_abc_http400.xml"))


def test_api_truncated_xml_is_a_parse_error() -> None:
    data = fixture_bytes("arxiv_api", "search_testing_100.xml")
    with pytest.raises(ParseError, match="malformed"):
        parse_api_feed(data[: len(data) // 2])


def test_oai_arxivraw_page_with_resumption_token() -> None:
    page = parse_oai_response(fixture_bytes("arxiv_oai", "mikesaelim_arXivRaw_ListRecordsResponse.xml"))
    assert page.token == "726959|1001" and len(page.records) == 6 and page.errors == []
    first = page.records[0]
    assert (first.arxiv_id, first.arxiv_version) == ("0704.0471", 1)
    assert first.authors == ["D.V. Shetty", "S.J. Yennello", "G.A. Souliotis"]
    assert first.categories == ["nucl-ex", "nucl-th"] and first.primary_category == "nucl-ex"
    second = page.records[1]
    assert second.arxiv_version == 4 and second.published_at == datetime(2007, 4, 5, 12, 45, 3, tzinfo=UTC)
    assert second.updated_at_source == datetime(2008, 11, 14, 9, 7, 25, tzinfo=UTC)
    assert page.response_date == datetime(2015, 1, 6, 20, 49, 59, tzinfo=UTC)


def test_oai_arxiv_format_pages() -> None:
    page = parse_oai_response(
        fixture_bytes("arxiv_oai", "hepcrawl_arXiv_ListRecords_arxiv-physics-hep-th.xml")
    )
    assert page.token is None and len(page.records) == 3
    first = page.records[0]
    assert first.arxiv_id == "1412.8323" and first.arxiv_version is None
    assert first.authors == ["Philipp A Hoehn"]
    assert first.published_at == datetime(2014, 12, 29, tzinfo=UTC)
    assert first.updated_at_source == datetime(2017, 12, 13, tzinfo=UTC)
    assert first.primary_category == "quant-ph"
    assert first.raw["format"] == "arXiv" and first.raw["sets"] == ["physics:hep-th"]
    ex = parse_oai_response(fixture_bytes("arxiv_oai", "hepcrawl_arXiv_ListRecords_arxiv-physics-hep-ex.xml"))
    assert len(ex.records) == 3


def test_oai_get_record_and_errors() -> None:
    one = parse_oai_response(fixture_bytes("arxiv_oai", "mikesaelim_arXivRaw_GetRecordResponse.xml"))
    assert [r.arxiv_id for r in one.records] == ["1302.2146"] and one.records[0].arxiv_version == 2
    with pytest.raises(OaiError) as no_records:
        parse_oai_response(fixture_bytes("arxiv_oai", "mikesaelim_arXivRaw_ErrorResponseNoRecordsMatch.xml"))
    assert no_records.value.code == "noRecordsMatch"
    with pytest.raises(OaiError) as bad_token:
        parse_oai_response(
            fixture_bytes("arxiv_oai", "mikesaelim_arXivRaw_ErrorResponseBadResumptionToken.xml")
        )
    assert bad_token.value.code == "badResumptionToken"


def test_rss_feed_of_the_day() -> None:
    page = parse_rss_feed(fixture_bytes("arxiv_rss", RSS_FILE))
    assert page.feed_date == date(2026, 9, 24) and page.errors == []
    kinds = [(r.arxiv_id, r.arxiv_version, r.raw["announce_type"], r.announced_date) for r in page.records]
    assert kinds == [
        ("2609.26811", 1, "new", date(2026, 9, 24)),
        ("2609.26820", 1, "new", date(2026, 9, 24)),
        ("2205.06398", 2, "cross", None),
        ("2009.13987", 3, "replace", None),
    ]
    cross = page.records[2]
    assert cross.authors == ["Pritam Dey", "Zhengwu Zhang", "David B. Dunson"]
    assert (
        cross.categories == ["stat.ME", "stat.AP", "stat.ML"]
        and cross.raw["doi"] == "10.1093/bioinformatics/btac431"
    )
    assert cross.abstract.startswith("It has become routine in neuroscience")
    assert "Announce Type" not in cross.abstract


def test_hf_daily_page() -> None:
    page = parse_hf_response(fixture_bytes("hf_daily", "daily_papers_2024-10-25_first3.json"))
    assert page.errors == [] and [r.arxiv_id for r in page.records] == [
        "2410.17243",
        "2410.16251",
        "2410.18533",
    ]
    first = page.records[0]
    assert (first.upvotes, first.comments_count, first.hf_date) == (64, 3, date(2024, 10, 25))
    assert first.published_at == datetime(2024, 10, 22, 17, 59, 30, tzinfo=UTC)
    assert first.title == "Breaking the Memory Barrier: Near Infinite Batch Size Scaling for Contrastive Loss"
    assert first.authors[:2] == ["Zesen Cheng", "Hang Zhang"] and len(first.authors) == 9
    assert first.raw["submittedBy"]["fullname"]  # the submitter is kept in the raw item


def test_hf_invalid_json() -> None:
    with pytest.raises(ParseError, match="invalid JSON"):
        parse_hf_response(b'[{"paper": {"id": "2410.17243"')
    with pytest.raises(ParseError, match="expected a JSON list"):
        parse_hf_response(b'{"error": "rate limited"}')


# --- property tests: garbage never crashes a parser, and never hides a valid neighbour -------

# Text that can appear in a well-formed XML document (no control characters or surrogates).
junk_text = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=40)


def _api_entry(n: int) -> str:
    return (
        f"<entry><id>http://arxiv.org/abs/2501.{n:05d}v1</id><title>Paper {n}</title>"
        f"<summary>Abstract {n}.</summary><published>2025-01-02T00:00:00Z</published>"
        f"<updated>2025-01-02T00:00:00Z</updated><author><name>A. Author</name></author>"
        f'<category term="cs.LG"/></entry>'
    )


def _api_broken(kind: int, junk: str) -> str:
    junk = escape(junk)
    return [
        f"<entry><id>{junk}</id><title>x</title></entry>",
        f"<entry><id>http://arxiv.org/abs/2501.99999v1</id><title>{junk}</title>"
        f"<published>{junk}</published></entry>",
        f"<entry><title>no id {junk}</title></entry>",
        f"<entry><id>http://arxiv.org/abs/2501.99998</id><title> </title><summary>{junk}</summary></entry>",
    ][kind]


def _feed(entries: list[str]) -> bytes:
    return (
        '<?xml version="1.0"?><feed xmlns="http://www.w3.org/2005/Atom" '
        'xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom">'
        f"<opensearch:totalResults>{len(entries)}</opensearch:totalResults>{''.join(entries)}</feed>"
    ).encode()


@settings(max_examples=60, deadline=None)
@given(layout=st.lists(st.one_of(st.just(None), st.tuples(st.integers(0, 3), junk_text)), max_size=8))
def test_api_parser_keeps_valid_entries_next_to_broken_ones(layout: list) -> None:
    entries, expected = [], []
    for n, slot in enumerate(layout):
        if slot is None:
            entries.append(_api_entry(n))
            expected.append(f"2501.{n:05d}")
        else:
            entries.append(_api_broken(*slot))
    page = parse_api_feed(_feed(entries))
    assert [r.arxiv_id for r in page.records if r.arxiv_id in expected] == expected


@settings(max_examples=80, deadline=None)
@given(data=st.binary(max_size=300))
def test_xml_and_json_parsers_never_crash_on_garbage(data: bytes) -> None:
    for parse in (parse_api_feed, parse_oai_response, parse_rss_feed, parse_hf_response):
        with suppress(ParseError):  # the one error a garbage response may raise
            parse(data)


def _oai_record(n: int, *, broken: str | None = None) -> str:
    ident = f"25{n % 12 + 1:02d}.{n:05d}"
    title = "" if broken == "title" else f"Title {n}"
    ident_el = "<id>not an id</id>" if broken == "id" else f"<id>{ident}</id>"
    created = f"<created>{escape(broken)}</created>" if broken and broken not in {"title", "id"} else ""
    return (
        f"<record><header><identifier>oai:arXiv.org:{ident if broken != 'id' else 'x'}</identifier>"
        f"<datestamp>2025-01-02</datestamp></header><metadata>"
        f'<arXiv xmlns="http://arxiv.org/OAI/arXiv/">{ident_el}{created}<title>{title}</title>'
        f"<categories>cs.LG</categories><abstract>Abstract.</abstract></arXiv></metadata></record>"
    )


@settings(max_examples=60, deadline=None)
@given(
    layout=st.lists(
        st.one_of(st.none(), st.sampled_from(["title", "id", "not a date", "2025-13-45"])), max_size=8
    )
)
def test_oai_parser_keeps_valid_records_next_to_broken_ones(layout: list) -> None:
    body = "".join(_oai_record(n, broken=b) for n, b in enumerate(layout))
    doc = (
        '<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        f"<responseDate>2025-01-03T00:00:00Z</responseDate><ListRecords>{body}</ListRecords></OAI-PMH>"
    ).encode()
    page = parse_oai_response(doc)
    expected = [f"25{n % 12 + 1:02d}.{n:05d}" for n, b in enumerate(layout) if b is None]
    assert [r.arxiv_id for r in page.records] == expected
    assert len(page.errors) == len(layout) - len(expected)


@settings(max_examples=60, deadline=None)
@given(
    layout=st.lists(
        st.one_of(
            st.none(),
            st.sampled_from(
                [1, "x", [], {"paper": None}, {"paper": {"id": ""}}, {"paper": {"id": "2501.00001"}}]
            ),
            st.fixed_dictionaries(
                {"paper": st.fixed_dictionaries({"id": st.just("2501.00002"), "upvotes": junk_text})}
            ),
        ),
        max_size=8,
    )
)
def test_hf_parser_keeps_valid_items_next_to_broken_ones(layout: list) -> None:
    items, expected = [], []
    for n, slot in enumerate(layout):
        if slot is None:
            ident = f"2410.{n:05d}"
            items.append(
                {"paper": {"id": ident, "title": f"T{n}", "summary": "S", "upvotes": n}, "numComments": 1}
            )
            expected.append(ident)
        else:
            items.append(slot)
    page = parse_hf_response(json.dumps(items).encode())
    assert [r.arxiv_id for r in page.records if r.arxiv_id in expected] == expected


def test_rss_item_without_id_is_reported_and_others_kept() -> None:
    data = fixture_bytes("arxiv_rss", RSS_FILE)
    broken = data.replace(b"arXiv:2609.26820v1", b"garbage").replace(
        b"oai:arXiv.org:2609.26820v1", b"nothing"
    )
    broken = broken.replace(b"https://arxiv.org/abs/2609.26820", b"https://example.org/x")
    page = parse_rss_feed(broken)
    assert [r.arxiv_id for r in page.records] == ["2609.26811", "2205.06398", "2009.13987"]
    assert len(page.errors) == 1 and page.errors[0].startswith("item 2")
