"""Is the database there, and at the schema this code expects? Checked before anything uses it.

`check_database(url)` answers in one line: the server answers (or not, within the connect
timeout), and the schema revision stored by Alembic equals the newest migration shipped with
this code. Every command and the web app call it at start-up, so a command run before
`papertrend init`, against an older schema or against a stopped server stops with one line
that says what to do instead of a traceback from deep inside a query.

Where migrating is safe, a caller that starts from nothing (`demo`, `run`, `web`: what `make
run` runs) may do it instead of refusing (`can_migrate_itself`): a SQLite file outside
production has one machine and one operator, as `make run` assumes. PostgreSQL may serve
several machines running different versions during a deploy, and a production database
deserves a deliberate `papertrend init` (after a backup), so those only get the line, as do
the stage commands an operator scripts.

While the app runs, `note_unreachable` logs a database outage once per interval instead of a
traceback per request.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

from app.config import Settings
from app.db import DEFAULT_CONNECT_TIMEOUT, make_engine
from app.security.redact import redact_text

log = logging.getLogger("papertrend.db")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
OUTAGE_LOG_INTERVAL_S = 30.0


def describe(url: str) -> str:
    """Where a database URL points, without credentials: `host:port/name` or the SQLite file."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return redact_text(url)
    if parsed.get_backend_name() == "sqlite":
        return parsed.database or ":memory:"
    port = f":{parsed.port}" if parsed.port else ""
    return f"{parsed.host or 'localhost'}{port}/{parsed.database or ''}"


@lru_cache(maxsize=1)
def _revisions() -> tuple[str, frozenset[str]]:
    """(newest revision, every revision) of the migrations shipped with this code."""
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    script = ScriptDirectory.from_config(config)
    head = script.get_current_head()
    if head is None:  # pragma: no cover - the project always ships migrations
        raise RuntimeError(f"no migrations found in {MIGRATIONS_DIR}")
    return head, frozenset(s.revision for s in script.walk_revisions())


def head_revision() -> str:
    """The newest migration shipped with this code."""
    return _revisions()[0]


def known_revisions() -> frozenset[str]:
    return _revisions()[1]


@dataclass(frozen=True)
class DatabaseState:
    """What `check_database` found. `problem` is one line for the user, empty when all is well."""

    where: str
    reachable: bool
    revision: str | None  # None: no schema at all (never migrated)
    head: str
    newer: bool = False  # the database was migrated by a newer version of papertrend
    detail: str = ""

    @property
    def ready(self) -> bool:
        return self.reachable and self.revision == self.head

    @property
    def problem(self) -> str:
        if not self.reachable and "does not exist" in self.detail and 'database "' in self.detail:
            return (
                f"there is no database at {self.where} ({self.detail}); create it "
                "(for example with `createdb`), then run `papertrend init`"
            )
        if not self.reachable:
            return (
                f"cannot reach the database at {self.where} ({self.detail}); "
                "check DATABASE_URL and that the database server is running"
            )
        if self.revision is None:
            return f"the database at {self.where} has no tables yet: run `papertrend init` first"
        if self.newer:
            return (
                f"the database at {self.where} has schema {self.revision}, made by a newer papertrend "
                f"(this one knows up to {self.head}): upgrade papertrend"
            )
        if self.revision != self.head:
            return (
                f"the database at {self.where} has schema {self.revision}, this papertrend needs "
                f"{self.head}: run `papertrend init` to upgrade it"
            )
        return ""


def _first_line(exc: BaseException) -> str:
    inner = getattr(exc, "orig", None) or exc
    lines = [line.strip() for line in str(inner).splitlines() if line.strip()]
    text_ = lines[0] if lines else type(inner).__name__
    return redact_text(text_)[:300]


def check_database(url: str, *, connect_timeout: float = DEFAULT_CONNECT_TIMEOUT) -> DatabaseState:
    """Connect once, read the schema revision, compare it with this code's newest migration."""
    where, head = describe(url), head_revision()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:" and not Path(path).exists():
            folder = Path(path).parent
            if folder.exists() and not folder.is_dir():
                return DatabaseState(where, False, None, head, detail=f"{folder} is a file, not a folder")
            return DatabaseState(where, True, None, head)  # no file yet: nothing migrated
        engine: Engine = create_engine(url, hide_parameters=True)
    else:
        engine = make_engine(url, connect_timeout=connect_timeout)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            if not inspect(conn).has_table("alembic_version"):
                return DatabaseState(where, True, None, head)
            revision = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except SQLAlchemyError as exc:
        return DatabaseState(where, False, None, head, detail=_first_line(exc))
    finally:
        engine.dispose()
    if revision is None:
        return DatabaseState(where, True, None, head)
    revision = str(revision)
    newer = revision != head and revision not in known_revisions()
    return DatabaseState(where, True, revision, head, newer=newer)


def can_migrate_itself(url: str, environment: str) -> bool:
    """Whether a command may bring the schema up to date by itself (see the module docstring)."""
    return url.startswith("sqlite") and environment != "production"


def upgrade_schema(url: str, revision: str = "head") -> None:
    """Bring the database to `revision` with Alembic (creates the SQLite file and its folder)."""
    from alembic import command
    from alembic.config import Config

    if not MIGRATIONS_DIR.is_dir():
        raise DatabaseNotReady(f"migrations folder not found at {MIGRATIONS_DIR}")
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            try:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseNotReady(f"cannot create the folder of {path}: {exc.strerror}") from None
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.set_main_option("sqlalchemy.url", url)
    config.attributes["configure_logger"] = False
    command.upgrade(config, revision)


class DatabaseNotReady(Exception):
    """The database cannot be used as it is; the message (one line) says what to do."""


def ensure_ready(
    settings: Settings, *, migrate: bool = False, say: Callable[[str], None] | None = None
) -> DatabaseState:
    """Check the database; with `migrate`, bring it up to date where that is safe; else raise
    DatabaseNotReady with one line that says what to do."""
    url = settings.effective_database_url
    state = check_database(url, connect_timeout=settings.database_connect_timeout)
    if state.ready:
        return state
    safe = state.reachable and not state.newer and can_migrate_itself(url, settings.environment)
    if not (migrate and safe):
        raise DatabaseNotReady(state.problem)
    if say is not None:
        say(
            f"bringing the database at {state.where} to schema {state.head} "
            f"(from {state.revision or 'empty'}; as `papertrend init` does)"
        )
    try:
        upgrade_schema(url)
    except SQLAlchemyError as exc:
        raise DatabaseNotReady(f"could not migrate {state.where}: {_first_line(exc)}") from None
    return check_database(url, connect_timeout=settings.database_connect_timeout)


_outage_lock = threading.Lock()
_outage_logged: dict[str, float] = {}


def note_unreachable(exc: BaseException, *, where: str = "") -> None:
    """Log a database outage in one line, at most once per OUTAGE_LOG_INTERVAL_S per kind of error."""
    line = _first_line(exc)
    key = f"{type(getattr(exc, 'orig', None) or exc).__name__}:{line[:80]}"
    now = time.monotonic()
    with _outage_lock:
        last = _outage_logged.get(key)
        if last is not None and now - last < OUTAGE_LOG_INTERVAL_S:
            return
        _outage_logged[key] = now
    place = f" at {where}" if where else ""
    log.error("database unavailable%s: %s (answering 503 until it is back)", place, line)


def is_unavailable(exc: BaseException) -> bool:
    """An error that means "the database cannot serve right now", not a bug in a query."""
    from sqlalchemy.exc import InterfaceError, OperationalError
    from sqlalchemy.exc import TimeoutError as PoolTimeout

    return isinstance(exc, (OperationalError, InterfaceError, PoolTimeout))
