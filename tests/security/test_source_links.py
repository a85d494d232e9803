"""Links from sources: only absolute http(s) URLs are kept, so none other reaches a reader.

A hostile Hugging Face answer (over the real HTTP client and parser) and a hostile file put
`javascript:`, `data:` and look-alike URLs into every link field; the pages, the JSON API, the
Atom feeds and the digest email built from those papers carry none of them (both databases).
Links stored by an earlier version are cleared by the migration.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import create_engine, select, text
from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.digest.service import DigestOptions, build_due_digests
from app.ingest.flows import run_source
from app.ingest.parse.links import http_url
from app.ingest.service import ingest_file
from app.mail.compose import MailSetup
from app.models import Paper, PaperScore, PaperTopic, Topic
from tests.digest.digest_support import add_subscriber
from tests.ingest.upstream import Upstream, json_reply, path, source_settings
from tests.mail.mail_support import make_app, settings_for
from tests.security.support import local_client

ROOT = Path(__file__).resolve().parents[2]
HF_FIXTURE = ROOT / "tests" / "fixtures" / "hf_daily" / "daily_papers_2024-10-25_first3.json"
HOSTILE = [
    "javascript:alert(document.cookie)",
    "  JaVaScRiPt:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==",
    "vbscript:msgbox(1)",
    "//evil.example/x",
    "https://github.com@evil.example/repo",
    "/relative/path",
]
MARKERS = ("javascript", "script:", "data:text", "vbscript", "evil.example", "JaVaScRiPt")


def test_only_http_links_are_kept_at_parse_time() -> None:
    for value in HOSTILE:
        assert http_url(value) is None, value
    assert http_url("https://github.com/owner/repo") == "https://github.com/owner/repo"
    assert http_url("HTTP://Example.org/Page") == "http://Example.org/Page"


def _hostile_hf_day() -> bytes:
    items = json.loads(HF_FIXTURE.read_bytes())
    items[0]["paper"]["githubRepo"] = HOSTILE[0]
    items[0]["paper"]["projectPage"] = HOSTILE[1]
    items[1]["paper"]["githubRepo"] = HOSTILE[6]
    items[1]["paper"]["projectPage"] = HOSTILE[3]
    items[2]["paper"]["githubRepo"] = "https://github.com/owner/repo"
    return json.dumps(items).encode()


def _hostile_file(tmp_path: Path) -> Path:
    rows = [
        {
            "id": f"file-{i}",
            "title": f"A hostile file paper number {i} about quantization",
            "abstract": "We study quantization of large language models.",
            "announced_date": "2026-05-04",
            "abs_url": HOSTILE[i % len(HOSTILE)],
            "pdf_url": HOSTILE[(i + 1) % len(HOSTILE)],
            "code_url": HOSTILE[(i + 2) % len(HOSTILE)],
            "project_url": HOSTILE[(i + 3) % len(HOSTILE)],
        }
        for i in range(len(HOSTILE))
    ]
    target = tmp_path / "hostile.jsonl"
    target.write_text("\n".join(json.dumps(r) for r in rows))
    return target


def _assert_clean(body: str, where: str) -> None:
    lowered = body.lower()
    for marker in MARKERS:
        assert marker.lower() not in lowered, f"{marker!r} reached {where}"


def test_hostile_links_never_reach_a_page_an_email_a_feed_or_the_api(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    up = Upstream()
    up.on(path("/daily_papers", date="2024-10-25"), json_reply(_hostile_hf_day()))
    up.on(path("/daily_papers"), json_reply(b"[]"))
    report = run_source(
        session_factory,
        source_settings(),
        "hf_daily",
        now=datetime(2024, 10, 25, 12, 0, tzinfo=UTC),
        options={"days": [date(2024, 10, 25)]},
        transport=up.transport,
        sleep=up.clock.sleep,
    )
    assert not report.failed and report.new == 3
    with session_scope(session_factory) as session:
        assert ingest_file(session, _hostile_file(tmp_path), source="file").new == len(HOSTILE)

    with session_scope(session_factory) as session:
        papers = list(session.scalars(select(Paper)))
        for p in papers:
            for link in (p.abs_url, p.pdf_url, p.code_url, p.project_url):
                assert link is None or link.startswith(("https://", "http://")), link
                assert link is None or "evil.example" not in link
        assert {p.code_url for p in papers} >= {"https://github.com/owner/repo"}
        # Put every paper in a topic and give it a trending score, so every view lists it.
        topic = Topic(
            slug="quantization", label="Quantization", kind="area", keywords=["quantization"], size=20
        )
        session.add(topic)
        session.flush()
        for p in papers:
            session.add(PaperTopic(paper_id=p.id, topic_id=topic.id, score=0.9))
            session.add(PaperScore(paper_id=p.id, window="week", score=1.0, components={}))
            p.announced_date = date(2026, 5, 4)
        public_ids = [p.public_id for p in papers]
        subscriber = add_subscriber(session, "reader@example.org", topics=[topic])
        subscriber_id = subscriber.id

    settings = settings_for(tmp_path)
    app = make_app(settings, session_factory, sender=None)
    app.state.clock = lambda: datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
    client = local_client(app)
    pages = ["/", "/?window=week", "/topics", "/topics/quantization", "/search?q=quantization"]
    pages += [f"/papers/{pid}" for pid in public_ids]
    api = ["/api/v1/papers?limit=100", "/api/v1/trending?window=week", "/api/v1/search?q=quantization"]
    api += ["/api/v1/topics/quantization"]
    api += [f"/api/v1/papers/{pid}" for pid in public_ids]
    feeds = ["/feeds/trending.atom?window=week", "/feeds/topics/quantization.atom"]
    for url in pages + api + feeds:
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
        _assert_clean(response.text, url)

    setup = MailSetup.from_settings(settings)
    with session_scope(session_factory) as session:
        built = build_due_digests(
            session,
            now=datetime(2026, 5, 5, 9, 0, tzinfo=UTC),
            options=DigestOptions(first_days=3),
            only_subscriber_ids=[subscriber_id],
        )
        (digest,) = built.digests
        assert digest.items
        _row, content = setup.digest_row(digest, datetime(2026, 5, 5, 9, 0, tzinfo=UTC))
    _assert_clean(content["body_html"], "the digest email (HTML)")
    _assert_clean(content["body_text"], "the digest email (text)")


@pytest.fixture
def fresh_url(database_url: str, tmp_path: Path) -> Iterator[str]:
    """An empty database of the same kind as `database_url` (migrations run on it from scratch)."""
    if database_url.startswith("sqlite"):
        yield f"sqlite:///{tmp_path / 'links.db'}"
        return
    from tests.conftest import _create_pg_database, _drop_pg_database

    url, admin = _create_pg_database("pt_links")
    try:
        yield url
    finally:
        _drop_pg_database(url, admin)


def test_links_stored_by_an_earlier_version_are_cleared_by_the_migration(fresh_url: str) -> None:
    from tests.conftest import Config

    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", fresh_url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, "0005")
    engine = create_engine(fresh_url)
    with engine.begin() as conn:
        conn.execute(
            text(
                "INSERT INTO papers (source, source_id, title, abstract, authors, categories, keywords, "
                "withdrawn, raw, text_hash, created_at, updated_at, code_url, project_url, abs_url, pdf_url) "
                "VALUES ('file', 'x1', 't', '', '[]', '[]', '[]', false, '{}', 'h', :now, :now, "
                ":bad, :rel, :good, :data)"
            ),
            {
                "now": datetime(2026, 1, 1, tzinfo=UTC),
                "bad": "JavaScript:alert(1)",
                "rel": "/x",
                "good": "https://arxiv.org/abs/2601.00001",
                "data": "data:text/html,x",
            },
        )
    command.upgrade(config, "head")
    with engine.connect() as conn:
        row = conn.execute(text("SELECT code_url, project_url, abs_url, pdf_url FROM papers")).one()
    engine.dispose()
    assert tuple(row) == (None, None, "https://arxiv.org/abs/2601.00001", None)
