"""A database that is down or unreachable: start-up refuses in one line, requests get 503 with
Retry-After and the log gets one line per outage (no traceback per request), connecting gives up
after the connect timeout, and service resumes by itself when the database is back."""

from __future__ import annotations

import logging
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from app.config import load_settings
from app.db import make_engine, make_session_factory
from app.main import create_app
from app.readiness import check_database
from tests.conftest import ROOT

PAGES = ["/", "/topics", "/search?q=quantization", "/status", "/subscribe"]


@pytest.fixture(autouse=True)
def fresh_outage_log() -> None:
    """The outage line is logged once per interval per process: start each test with none logged."""
    from app.readiness import _outage_logged

    _outage_logged.clear()


API = ["/api/v1/papers", "/api/v1/status", "/api/v1/topics", "/api/v1/trending"]


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])  # closed again on leaving: nothing listens there


@pytest.fixture(params=["sqlite", "postgresql"])
def unreachable_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        blocker = tmp_path / "not-a-folder"
        blocker.write_text("a file where the database folder should be")
        return f"sqlite:///{blocker / 'papertrend.db'}"
    return f"postgresql+psycopg://postgres:pw@127.0.0.1:{_closed_port()}/papertrend"


def test_requests_get_503_with_retry_after_and_one_log_line(
    unreachable_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = load_settings(var_dir=tmp_path, database_url=unreachable_url, database_connect_timeout=2)
    engine = (
        make_engine(unreachable_url, connect_timeout=2) if unreachable_url.startswith("postgres") else None
    )
    factory = make_session_factory(engine) if engine is not None else None
    app = create_app(settings, session_factory=factory, load_search=False, sender=object())
    client = TestClient(app, raise_server_exceptions=False)
    with caplog.at_level(logging.INFO):
        for url in PAGES + API:
            response = client.get(url)
            assert response.status_code == 503, (url, response.status_code, response.text[:200])
            assert response.headers["retry-after"] == "30"
            if url.startswith("/api/"):
                assert response.json()["error"]["code"] == "unavailable"
            else:
                assert "cannot reach its database" in response.text
    outage = [r for r in caplog.records if "database unavailable" in r.getMessage()]
    assert 1 <= len(outage) <= 2, [
        r.getMessage() for r in caplog.records
    ]  # one per kind of error, not per request
    assert not any(r.exc_info for r in caplog.records), "no traceback while the database is away"
    assert "pw@" not in caplog.text


class Silent:
    """A TCP server that accepts connections and never says a word (a firewalled or hung server)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.conns: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.conns.append(conn)

    def close(self) -> None:
        for conn in self.conns:
            conn.close()
        self.sock.close()


@pytest.fixture
def silent() -> Iterator[Silent]:
    server = Silent()
    try:
        yield server
    finally:
        server.close()


def test_connecting_gives_up_after_the_connect_timeout(silent: Silent) -> None:
    engine = make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{silent.port}/x", connect_timeout=1)
    started = time.monotonic()
    with pytest.raises(OperationalError), engine.connect() as conn:
        conn.execute(text("SELECT 1"))
    assert time.monotonic() - started < 15  # without the timeout this waits for the OS (minutes)
    engine.dispose()
    state = check_database(f"postgresql+psycopg://postgres@127.0.0.1:{silent.port}/x", connect_timeout=1)
    assert not state.reachable and "cannot reach the database" in state.problem


def _serve(url: str, tmp_path: Path, *command: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "ENVIRONMENT", "SMTP_URL"}}
    env.update(
        DATABASE_URL=url, VAR_DIR=str(tmp_path / "var"), PYTHONPATH=str(ROOT), DATABASE_CONNECT_TIMEOUT="2"
    )
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *command, "--port", str(_closed_port())],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_start_up_refuses_an_unreachable_database_in_one_line(unreachable_url: str, tmp_path: Path) -> None:
    for command in (("web",), ("run",)):
        result = _serve(unreachable_url, tmp_path, *command)
        assert result.returncode == 1, (command, result.stdout, result.stderr)
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and lines[0].startswith("papertrend: error:"), result.stderr
        assert "Traceback" not in result.stderr and "pw@" not in result.stderr


def test_the_uvicorn_factory_refuses_too(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from app.config import get_settings
    from app.main import app_factory

    monkeypatch.setenv("DATABASE_URL", f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/x")
    monkeypatch.setenv("DATABASE_CONNECT_TIMEOUT", "2")
    monkeypatch.setenv("VAR_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as caught:
            app_factory()
        assert caught.value.code == 1
    finally:
        get_settings.cache_clear()


def test_service_resumes_when_the_database_is_back(
    database_url: str, session_factory: object, tmp_path: Path
) -> None:
    """The same app answers 503 while its engine points nowhere, then 200 once it can connect."""
    settings = load_settings(var_dir=tmp_path, database_url=database_url)
    dead = make_session_factory(
        make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/x", connect_timeout=1)
    )
    app = create_app(settings, session_factory=dead, load_search=False, sender=object())
    client = TestClient(app, raise_server_exceptions=False)
    assert client.get("/api/v1/papers").status_code == 503
    app.state.session_factory = session_factory  # the server is back
    assert client.get("/api/v1/papers").status_code == 200


def test_scheduled_jobs_log_an_outage_in_one_line(caplog: pytest.LogCaptureFixture) -> None:
    from apscheduler.triggers.cron import CronTrigger

    from app.jobs.slots import claimed

    dead = make_session_factory(
        make_engine(f"postgresql+psycopg://postgres@127.0.0.1:{_closed_port()}/x", connect_timeout=1)
    )
    job = claimed(dead, "deliver", CronTrigger.from_crontab("*/5 * * * *", timezone="UTC"), lambda: None)
    with caplog.at_level(logging.INFO):
        for _ in range(3):
            job()  # never raises into the scheduler thread
    assert sum("database unavailable" in r.getMessage() for r in caplog.records) == 1
    assert not any(r.exc_info for r in caplog.records)
