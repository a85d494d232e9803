"""A command on a database that is missing, unmigrated, older or newer says in one line what to do.

Real CLI processes on both kinds of database: where migrating is safe (SQLite outside production,
as `make run` assumes) the command migrates and carries on; elsewhere it stops with one line
naming the command to run, never a traceback.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

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


def test_demo_before_init_migrates_sqlite_or_says_to_run_init(empty_url: str, tmp_path: Path) -> None:
    if empty_url.startswith("sqlite"):
        # Safe to migrate: the command does it, says so in one line, and goes on (export of 0 papers).
        result = _cli(["papers", "export", "--out", str(tmp_path / "out.jsonl")], empty_url, tmp_path)
        assert result.returncode == 0, result.stderr
        first, *rest = result.stderr.strip().splitlines()
        assert first.startswith("papertrend: bringing the database") and rest == [
            "exported 0 papers to " + str(tmp_path / "out.jsonl")
        ]
        assert check_database(empty_url).ready
        return
    result = _cli(["demo"], empty_url, tmp_path)
    assert result.returncode == 1
    line = _one_line(result)
    assert line.startswith("papertrend: error:") and "run `papertrend init` first" in line
    engine = create_engine(empty_url)
    assert inspect(engine).get_table_names() == []  # nothing was created behind the user's back
    engine.dispose()


def test_an_older_schema_is_named_with_what_to_run(empty_url: str, tmp_path: Path) -> None:
    _migrate(empty_url, "0004")
    if empty_url.startswith("sqlite"):
        # Production never migrates by itself, even on SQLite.
        production = {"ENVIRONMENT": "production", "SECRET_KEY": STRONG, "SMTP_URL": "smtps://relay.example.org",
                      "BASE_URL": "https://papers.example.org"}  # fmt: skip
        result = _cli(["digest", "send", "--dry-run"], empty_url, tmp_path, **production)
    else:
        result = _cli(["digest", "send", "--dry-run"], empty_url, tmp_path)
    assert result.returncode == 1
    line = _one_line(result)
    assert f"has schema 0004, this papertrend needs {head_revision()}" in line
    assert "run `papertrend init` to upgrade it" in line
    assert check_database(empty_url).revision == "0004"
    if empty_url.startswith("sqlite"):
        upgraded = _cli(["digest", "send", "--dry-run"], empty_url, tmp_path)  # development: migrates
        assert upgraded.returncode == 0, upgraded.stderr
        assert check_database(empty_url).ready


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
