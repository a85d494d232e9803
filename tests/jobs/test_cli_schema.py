"""A command on a database that is missing, unmigrated, older or newer says in one line what to do.

Real CLI processes on both kinds of database. The commands `make run` runs (`demo`, `run`, `web`)
migrate a SQLite database outside production themselves, as `make run` does; every other
command, and every command on PostgreSQL or in production, stops with one line naming the
command to run, never a traceback.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from alembic import command
from sqlalchemy import create_engine, inspect, text

from app.readiness import check_database, head_revision
from tests.conftest import ROOT, Config, _create_pg_database, _drop_pg_database, _postgres_available

STRONG = "k3Jx9-pQ2vLm8ZtR4wYb7NcH1sDf6GaE0uXo5TiV"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, of each kind."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'var' / 'papertrend.db'}"
        return
    if _postgres_available():
        pytest.skip("PostgreSQL not reachable")
    url, admin = _create_pg_database("pt_schema")
    try:
        yield url
    finally:
        _drop_pg_database(url, admin)


def _cli(args: list[str], url: str, tmp_path: Path, **env_extra: str) -> subprocess.CompletedProcess[str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SMTP_URL", "ENVIRONMENT", "SECRET_KEY"}
    }
    env.update(DATABASE_URL=url, VAR_DIR=str(tmp_path / "var"), PYTHONPATH=str(ROOT), **env_extra)
    return subprocess.run(
        [sys.executable, "-m", "app.cli", *args],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )


def _migrate(url: str, revision: str) -> None:
    config = Config(str(ROOT / "alembic.ini"))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["configure_logger"] = False
    if url.startswith("sqlite"):
        Path(url.split("///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(config, revision)


def _one_line(result: subprocess.CompletedProcess[str]) -> str:
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    return lines[0]


def test_a_command_before_init_says_to_run_init(empty_url: str, tmp_path: Path) -> None:
    command_ = ["papers", "export", "--out", str(tmp_path / "out.jsonl")]
    if not empty_url.startswith("sqlite"):
        command_ = ["demo"]  # on PostgreSQL even `demo` leaves the schema to `papertrend init`
    result = _cli(command_, empty_url, tmp_path)
    assert result.returncode == 1
    line = _one_line(result)
    assert line.startswith("papertrend: error: database error:") and "run `papertrend init` first" in line
    assert not (tmp_path / "out.jsonl").exists()
    if empty_url.startswith("postgres"):
        engine = create_engine(empty_url)
        assert inspect(engine).get_table_names() == []  # nothing was created behind the user's back
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_web_before_init_migrates_a_sqlite_database_as_make_run_does(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'papertrend.db'}"
    port = _free_port()
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in {"DATABASE_URL", "SMTP_URL", "ENVIRONMENT", "SECRET_KEY"}
    }
    env.update(DATABASE_URL=url, VAR_DIR=str(tmp_path / "var"), PYTHONPATH=str(ROOT))
    server = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "web", "--port", str(port)],
        env=env,
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/api/v1/status", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None, server.communicate()
            assert time.monotonic() < deadline, "the web app did not start"
            time.sleep(0.5)
    finally:
        server.terminate()
        _, err = server.communicate(timeout=30)
    assert "bringing the database" in err and "Traceback" not in err, err
    assert check_database(url).ready


def test_an_older_schema_is_named_with_what_to_run(empty_url: str, tmp_path: Path) -> None:
    _migrate(empty_url, "0004")
    result = _cli(["digest", "send", "--dry-run"], empty_url, tmp_path)
    assert result.returncode == 1
    line = _one_line(result)
    assert f"has schema 0004, this papertrend needs {head_revision()}" in line
    assert "run `papertrend init` to upgrade it" in line
    assert check_database(empty_url).revision == "0004"
    upgraded = _cli(["init"], empty_url, tmp_path)
    assert upgraded.returncode == 0 and check_database(empty_url).ready


def test_a_newer_schema_asks_for_a_newer_papertrend(empty_url: str, tmp_path: Path) -> None:
    _migrate(empty_url, "head")
    engine = create_engine(empty_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '0999'"))
    engine.dispose()
    result = _cli(["digest", "send", "--dry-run"], empty_url, tmp_path)
    assert result.returncode == 1
    assert "made by a newer papertrend" in _one_line(result)


def test_init_then_commands_run_quietly(empty_url: str, tmp_path: Path) -> None:
    init = _cli(["init"], empty_url, tmp_path)
    assert init.returncode == 0 and "database ready" in init.stdout, init.stderr
    result = _cli(["digest", "send", "--dry-run"], empty_url, tmp_path)
    assert result.returncode == 0 and "bringing" not in result.stderr, result.stderr


def test_production_never_migrates_by_itself(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'var' / 'papertrend.db'}"
    _migrate(url, "0004")
    production = {
        "ENVIRONMENT": "production",
        "SECRET_KEY": STRONG,
        "SMTP_URL": "smtps://relay.example.org",
        "BASE_URL": "https://papers.example.org",
    }
    result = _cli(["web", "--port", "9"], url, tmp_path, **production)
    assert result.returncode == 1
    assert "has schema 0004" in _one_line(result) and "papertrend init" in result.stderr
    assert check_database(url).revision == "0004"
