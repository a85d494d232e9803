"""Acceptance: `papertrend ingest arxiv|oai|rss|hf` against a local HTTP server replaying real responses.

The server (127.0.0.1, port 0) answers like the upstreams would for the recorded fixtures;
each command must store the right papers with the right fields, and a second run adds nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import typer
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from app.cli.ingest import register
from app.config import get_settings
from app.models import JobRun, Paper
from tests.ingest.ingest_support import fixture_bytes, paper

RSS_FILE = "laya-reader_rss_arxiv_cs.LG+cs.AI+cs.CL+stat.ML_2026-09-24_trimmed4.xml"


class Replay(BaseHTTPRequestHandler):
    hits: list[str] = []

    def log_message(self, *args: object) -> None:  # keep test output quiet
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        Replay.hits.append(self.path)
        body, kind = b"not found", "text/plain"
        status = 200
        if url.path == "/api/query":
            body, kind = fixture_bytes("arxiv_api", "search_testing_100.xml"), "application/atom+xml"
        elif url.path == "/oai":
            name = "hepcrawl_arXiv_ListRecords_arxiv-physics-hep-th.xml"
            if "resumptionToken" not in query:
                name = "mikesaelim_arXivRaw_ListRecordsResponse.xml"
            body, kind = fixture_bytes("arxiv_oai", name), "text/xml"
        elif url.path == "/rss/cs.LG+cs.AI":
            body, kind = fixture_bytes("arxiv_rss", RSS_FILE), "application/rss+xml"
        elif url.path == "/api/daily_papers":
            body = fixture_bytes("hf_daily", "daily_papers_2024-10-25_first3.json")
            if query.get("date") != "2024-10-25":
                body = b"[]"
            kind = "application/json"
        else:
            status = 404
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def server() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Replay)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    Replay.hits = []
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def cli(
    database_url: str,
    session_factory: sessionmaker[Session],
    server: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> Iterator[typer.Typer]:
    env = {
        "DATABASE_URL": database_url,
        "VAR_DIR": str(tmp_path / "var"),
        "ARXIV_API_URL": f"{server}/api/query",
        "ARXIV_OAI_URL": f"{server}/oai",
        "ARXIV_RSS_URL": f"{server}/rss",
        "HF_API_URL": f"{server}/api",
        "ARXIV_CATEGORIES": "cs.LG cs.AI",
        "ARXIV_MIN_INTERVAL": "0",
    }
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    get_settings.cache_clear()
    root = typer.Typer()
    register(root)

    @root.callback()
    def _root() -> None:
        pass

    yield root
    get_settings.cache_clear()


def invoke(app: typer.Typer, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, list(args))
    return result.exit_code, result.stdout, result.stderr


def papers(factory: sessionmaker[Session]) -> int:
    with factory() as s:
        return s.scalar(select(func.count()).select_from(Paper)) or 0


def test_each_live_command_stores_the_right_papers_once(
    cli: typer.Typer, session_factory: sessionmaker[Session]
) -> None:
    code, out, err = invoke(cli, "ingest", "rss")
    assert code == 0, err
    assert "4 fetched, added 4 new" in out and "1 cross, 2 new, 1 replace" in out
    assert papers(session_factory) == 4

    code, out, err = invoke(cli, "ingest", "arxiv")
    assert code == 0, err
    assert "100 fetched, added 100 new" in out and papers(session_factory) == 104

    code, out, err = invoke(cli, "ingest", "oai")
    assert code == 0, err
    assert "9 fetched, added 9 new" in out and papers(session_factory) == 113

    code, out, err = invoke(cli, "ingest", "hf", "--date", "2024-10-25")
    assert code == 0, err
    assert "3 fetched, added 3 new" in out and papers(session_factory) == 116

    with session_factory() as s:
        rss_paper = paper(s, "2009.13987")
        assert rss_paper.arxiv_version == 3 and rss_paper.authors == [
            "Michael Joswig",
            "Marek Kaluba",
            "Lukas Ruff",
        ]
        api_paper = paper(s, "2202.12139")
        assert api_paper.primary_category == "cs.SE" and api_paper.comment
        oai_paper = paper(s, "0704.0716")
        assert oai_paper.arxiv_version == 4 and oai_paper.categories == ["math-ph", "math.MP"]
        hf_paper = paper(s, "2410.17243")
        assert (hf_paper.upvotes, hf_paper.comments_count) == (64, 3)

    # Second runs: nothing new anywhere.
    for args in (("rss",), ("arxiv",), ("hf", "--date", "2024-10-25")):
        code, out, err = invoke(cli, "ingest", *args)
        assert code == 0, err
        assert "added 0 new, 0 updated" in out, out
    code, out, err = invoke(cli, "ingest", "oai", "--from", "2014-10-01")
    assert code == 0 and "added 0 new, 0 updated, 9 unchanged" in out
    assert papers(session_factory) == 116

    code, out, _ = invoke(cli, "ingest", "status")
    assert code == 0
    lines = {line.split()[0]: line for line in out.splitlines() if line.strip()}
    for source in ("arxiv_rss", "arxiv_api", "arxiv_oai", "hf_daily"):
        assert " ok " in lines[source] and "never" not in lines[source]
    with session_factory() as s:
        assert s.scalar(select(func.count()).select_from(JobRun).where(JobRun.status == "ok")) == 8


def test_backfill_with_progress_and_a_failing_source_exits_non_zero(
    cli: typer.Typer, session_factory: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    code, out, err = invoke(cli, "ingest", "backfill", "--from", "2014-10-01")
    assert code == 0, err
    assert "9 fetched, added 9 new" in out
    assert [h for h in Replay.hits if "from=2014-10-01" in h]
    monkeypatch.setenv("HF_API_URL", "http://127.0.0.1:9/api")  # nothing listens on the discard port
    get_settings.cache_clear()
    code, out, err = invoke(cli, "ingest", "hf", "--date", "2024-10-25")
    assert code == 1
    assert err.strip().count("\n") == 0 and "hf_daily failed: cannot connect to 127.0.0.1:9" in err
    code, _, err = invoke(cli, "ingest", "oai", "--from", "not-a-date")
    assert code == 1 and "--from must be a date" in err
