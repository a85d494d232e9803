"""Helpers shared by the CLI modules: settings, database sessions, one-line failures, progress."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import NoReturn

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from sqlalchemy.exc import OperationalError, ProgrammingError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.config import ConfigError, Settings, get_settings
from app.db import make_engine, make_session_factory, session_scope
from app.readiness import DatabaseNotReady, ensure_ready
from app.security.redact import redact_text

_ready: set[str] = set()  # databases checked by this process


def fail(message: str, code: int = 1) -> NoReturn:
    """Print one clear line to stderr (credentials and signed tokens masked) and exit non-zero."""
    print(f"papertrend: error: {redact_text(message)}", file=sys.stderr)
    raise SystemExit(code)


@contextmanager
def database_errors(*also: type[Exception]) -> Iterator[None]:
    """End the command in one readable line on a database failure (or one of `also`, by its message).

    The one way commands report an unreachable or unmigrated database; usable around a block
    (`with database_errors():`) or on a command (`@database_errors()`).
    """
    try:
        yield
    except (OperationalError, ProgrammingError) as exc:
        text = str(exc.orig if exc.orig is not None else exc).splitlines()[0]
        if "no such table" in text or "does not exist" in text:
            fail(f"the database is not initialised ({text}); run `papertrend init` first")
        fail(f"database error: {text} (is the database reachable? `papertrend init` migrates it)")
    except SQLAlchemyError as exc:
        fail(f"database error: {type(exc).__name__}: {str(exc).splitlines()[0]}")
    except also as exc:
        fail(str(exc))


def settings() -> Settings:
    """The process's settings, checked (also against the source registry); one line on error."""
    from app.ingest.registry import check_settings

    try:
        cfg = get_settings()
        check_settings(cfg)
    except ConfigError as exc:
        fail(str(exc))
    return cfg


def ensure_database(cfg: Settings, *, may_migrate: bool = False) -> None:
    """Stop with one line unless the database answers at the current schema (see app.readiness).

    `may_migrate` is for the commands `make run` runs (`demo`, `run`, `web`): on a SQLite database
    outside production they bring a missing or older schema up to date on the spot, as `make run`
    does with `init`. Every other command leaves the schema alone and names `papertrend init`.
    """
    url = cfg.effective_database_url
    if url in _ready:
        return
    say = (lambda line: print(f"papertrend: {line}", file=sys.stderr)) if may_migrate else None
    try:
        ensure_ready(cfg, say=say, migrate=may_migrate)
    except DatabaseNotReady as exc:
        fail(f"database error: {exc}")
    _ready.add(url)


def session_factory(cfg: Settings | None = None, *, may_migrate: bool = False) -> sessionmaker[Session]:
    """Sessions on the configured database, after `ensure_database` found it ready."""
    cfg = cfg or settings()
    ensure_database(cfg, may_migrate=may_migrate)
    engine = make_engine(cfg.effective_database_url, connect_timeout=cfg.database_connect_timeout)
    return make_session_factory(engine)


@contextmanager
def unit_of_work(cfg: Settings | None = None, *, dry_run: bool = False) -> Iterator[Session]:
    """A session committed at the end, or rolled back when `dry_run` is set."""
    factory = session_factory(cfg)
    if dry_run:
        session = factory()
        try:
            yield session
        finally:
            session.rollback()
            session.close()
        return
    with session_scope(factory) as session:
        yield session


@contextmanager
def progress_bar(description: str, total: int | None) -> Iterator[Callable[[int], None]]:
    """A terminal progress bar; yields `advance(n)`. Quiet when stdout is not a terminal."""
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        transient=False,
        disable=not sys.stderr.isatty(),
    ) as progress:
        task = progress.add_task(description, total=total)
        yield lambda n: progress.advance(task, n)
