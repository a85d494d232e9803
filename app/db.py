"""Database plumbing: engine creation, the declarative Base, and the unit of work.

Services never commit. Whoever owns the transaction uses `session_scope(factory)`: a web
request through `app.http.deps.SessionDep` (one transaction per request), a pipeline step
or a flow by leaving its `session_scope()` block without an exception, a CLI command
through `app.cli.common.unit_of_work`.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

from sqlalchemy import JSON, MetaData, create_engine, event
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON on SQLite, JSONB on PostgreSQL: one column type for raw records and lists.
JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the web app read while a job writes; foreign keys are off by default in SQLite.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()


DEFAULT_CONNECT_TIMEOUT = 5.0


def make_engine(url: str, *, echo: bool = False, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> Engine:
    """Create an engine for SQLite (file created with its folder) or PostgreSQL.

    Statement parameters are kept out of error messages and logs (`hide_parameters`): they hold
    addresses and tokens. A PostgreSQL server that does not answer fails a connection attempt
    after `connect_timeout` seconds instead of the operating system's minutes.
    """
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            # If the folder cannot be made, connecting fails with SQLite's own message ("unavailable").
            with suppress(OSError):
                Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            echo=echo,
            hide_parameters=True,
            connect_args={"check_same_thread": False, "timeout": 30},
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(
        url,
        echo=echo,
        hide_parameters=True,
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=10,
        pool_timeout=max(connect_timeout, 10.0),
        connect_args={"connect_timeout": max(1, round(connect_timeout))},
    )


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=True)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for a job step: commit on success, roll back on error."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def dialect_name(session: Session) -> str:
    bind = session.get_bind()
    return bind.dialect.name
