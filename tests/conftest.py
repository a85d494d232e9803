"""Shared fixtures: every database test runs on SQLite and on PostgreSQL.

Fixtures used by more than one test package live here: the databases (`database_url`,
`engine`, `db`, `session_factory`), the seeded site and its app (`seeded`, `client`) and the
scripted SMTP server on 127.0.0.1 (`smtp`). Rows for a test come from `tests.factories`.

PostgreSQL is used whenever it answers at TEST_POSTGRES_URL (default: the local server).
Without it the PostgreSQL half of each test is skipped with a message, except under CI,
where an unreachable server is an error.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from app.db import Base, make_engine, make_session_factory, session_scope
from tests.mail.mail_support import SmtpServer
from tests.web.apputil import build_app
from tests.web.seed import Seeded, seed

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path(__file__).resolve().parent / "fixtures"
PG_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")


def _postgres_available() -> str | None:
    try:
        engine = create_engine(PG_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # any failure to connect means "not available"
        return f"{type(exc).__name__}: {str(exc).splitlines()[0]}"


def migrate(url: str) -> None:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("sqlalchemy.url", url)
    cfg.attributes["configure_logger"] = False
    command.upgrade(cfg, "head")


def _create_pg_database(prefix: str) -> tuple[str, Engine]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    return PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}", admin


def _drop_pg_database(url: str, admin: Engine) -> None:
    name = url.rsplit("/", 1)[1]
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database of each kind, shared by the tests of one session."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.db'}"
        migrate(url)
        yield url
        return
    problem = _postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL must be reachable in CI at {PG_ADMIN_URL}: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_ADMIN_URL} ({problem}); PostgreSQL tests skipped")
    url, admin = _create_pg_database("pt_test")
    migrate(url)
    yield url
    _drop_pg_database(url, admin)


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test (commits become savepoints)."""
    connection = engine.connect()
    outer = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        outer.rollback()
        connection.close()


def truncate_all(engine: Engine) -> None:
    tables = list(reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            for table in tables:
                conn.execute(table.delete())


@pytest.fixture
def session_factory(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Real commits (for the web app, CLI and jobs); every table is emptied afterwards."""
    truncate_all(engine)
    yield make_session_factory(engine)
    truncate_all(engine)


@pytest.fixture
def seeded(session_factory: sessionmaker[Session]) -> Seeded:
    """The site's seeded database (topics, papers, scores), committed."""
    with session_scope(session_factory) as session:
        return seed(session)


@pytest.fixture
def client(session_factory: sessionmaker[Session], seeded: Seeded, tmp_path: Path) -> Iterator[TestClient]:
    """The real app over the seeded database (no scheduler, no search index)."""
    app = build_app(session_factory, tmp_path)
    with TestClient(app) as test_client:
        yield test_client


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    """A scripted SMTP server on 127.0.0.1 (aiosmtpd)."""
    server = SmtpServer().start()
    try:
        yield server
    finally:
        server.stop()
