"""arXiv's politeness rule held across worker processes and machines.

`ArxivLimiter` (in `http`) spaces the requests of one process. Several workers must keep
arXiv's rule together (one connection at a time, request starts three seconds apart), so the
limiter the ingest flows use carries a gate chosen from the database settings:

- **PostgreSQL** (`PostgresGate`, workers on any number of machines): a session-level
  advisory lock on a fixed key derived from "arxiv" is held for the whole request, so one
  connection at a time across machines. Under the lock the gate reads `rate_limits.next_start`,
  sleeps until it has passed and moves it to `clock_timestamp() + interval`. Only the
  database clock is used, so skewed machine clocks cannot shorten the spacing. The gate has
  its own small autocommit engine: the lock must not share the ingest transaction, and the new
  next-start must be visible before the lock is released.
- **SQLite** (`FileGate`, workers on one machine): an exclusive `fcntl.flock` on a small file
  beside the database file, holding the next allowed start (wall-clock seconds, which all
  processes of the machine share). A file lock rather than the `rate_limits` table under
  `BEGIN IMMEDIATE`: SQLite has one write lock for the whole database, and holding it through
  a request of up to HTTP_TIMEOUT seconds would stall every other writer (the ingest of
  another source, subscriptions on the site) and run into their busy timeout. The file sits
  beside the database because the processes sharing the database are exactly those that must
  share the limit, and its folder is already writable (SQLite keeps its WAL there). The OS
  drops the lock of a process that dies, so no stale lock survives a crash.

A gate that cannot be held (database unreachable, lock file unwritable) raises SourceError:
the source fails with that message instead of sending unthrottled.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import SQLAlchemyError

from app.config import Settings
from app.ingest.sources.http import ArxivLimiter, CrossProcessGate, SourceError, shared_arxiv_limiter

LIMIT_NAME = "arxiv"
LOCK_WAIT_S = 600.0  # queueing longer than this for other processes' requests fails the source
CONNECT_TIMEOUT_S = 10

_WAIT = text("SELECT EXTRACT(EPOCH FROM next_start - clock_timestamp()) FROM rate_limits WHERE name = :name")
_MOVE = text(
    "INSERT INTO rate_limits (name, next_start)"
    " VALUES (:name, clock_timestamp() + make_interval(secs => :secs))"
    " ON CONFLICT (name) DO UPDATE SET next_start = EXCLUDED.next_start"
)


def advisory_key(name: str) -> int:
    """A fixed signed 64-bit key for pg_advisory_lock, the same in every process."""
    digest = hashlib.blake2b(f"papertrend:{name}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _failure(what: str, exc: BaseException) -> SourceError:
    detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc).strip()
    detail = detail.splitlines()[0] if detail else type(exc).__name__
    return SourceError(f"arXiv limiter: {what}, not sending unthrottled ({detail})")


class PostgresGate:
    """One request at a time across machines, starts `interval` apart on the database clock."""

    def __init__(
        self,
        url: str,
        *,
        name: str = LIMIT_NAME,
        sleep: Callable[[float], None] = time.sleep,
        lock_wait: float = LOCK_WAIT_S,
    ) -> None:
        self.name = name
        self.key = advisory_key(name)
        self.sleep = sleep
        # lock_timeout bounds the wait in pg_advisory_lock; autocommit makes the new next
        # start visible to the next holder before the lock is released.
        self.engine = create_engine(
            url,
            isolation_level="AUTOCOMMIT",
            pool_size=1,
            max_overflow=2,
            pool_pre_ping=True,
            connect_args={
                "connect_timeout": CONNECT_TIMEOUT_S,
                "options": f"-c lock_timeout={int(lock_wait * 1000)}",
            },
        )

    def close(self) -> None:
        self.engine.dispose()

    @contextmanager
    def hold(self, interval: float) -> Iterator[None]:
        conn = self._acquire(interval)
        try:
            yield
        finally:
            self._release(conn)

    def _acquire(self, interval: float) -> Connection:
        try:
            conn = self.engine.connect()
        except SQLAlchemyError as exc:
            raise _failure("cannot reach the database that spaces requests", exc) from None
        try:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": self.key})
            wait = conn.execute(_WAIT, {"name": self.name}).scalar()
            if wait is not None and wait > 0:
                # Capped: a next start left by a longer interval setting never blocks for longer.
                self.sleep(min(float(wait), interval))
            conn.execute(_MOVE, {"name": self.name, "secs": interval})
        except BaseException as exc:
            # Dropping the connection ends its session, and the advisory lock with it.
            conn.invalidate()
            conn.close()
            if isinstance(exc, SQLAlchemyError):
                raise _failure("cannot hold the shared request slot in the database", exc) from None
            raise
        return conn

    def _release(self, conn: Connection) -> None:
        try:
            conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
        except SQLAlchemyError:
            conn.invalidate()  # a lost session has released its locks already
        finally:
            conn.close()


class FileGate:
    """One request at a time across the processes of one machine, through an flock'ed file."""

    def __init__(
        self,
        path: Path,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.path = path
        self.clock = clock
        self.sleep = sleep

    def close(self) -> None:
        pass

    @contextmanager
    def hold(self, interval: float) -> Iterator[None]:
        fd = self._acquire(interval)
        try:
            yield
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def _acquire(self, interval: float) -> int:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise _failure(f"cannot open the lock file {self.path}", exc) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            next_start = _parse(os.pread(fd, 64, 0))
            if next_start is not None:
                # Capped: a clock set back (or a longer old interval) never blocks for longer.
                wait = min(next_start - self.clock(), interval)
                if wait > 0:
                    self.sleep(wait)
            stamp = f"{self.clock() + interval:.6f}".encode()
            os.ftruncate(fd, 0)
            os.pwrite(fd, stamp, 0)
        except BaseException as exc:
            os.close(fd)
            if isinstance(exc, OSError):
                raise _failure(f"cannot use the lock file {self.path}", exc) from None
            raise
        return fd


def _parse(raw: bytes) -> float | None:
    try:
        return float(raw.decode().strip())
    except (ValueError, UnicodeDecodeError):  # empty (first use) or damaged: no spacing to keep
        return None


def lock_file_path(settings: Settings) -> Path:
    """Beside the SQLite file (`papertrend.db.arxiv-limit`); in VAR_DIR for an in-memory database."""
    database = make_url(settings.effective_database_url).database
    if not database or database == ":memory:":
        return settings.var_dir / f"{LIMIT_NAME}.limit"
    path = Path(database)
    return path.with_name(f"{path.name}.{LIMIT_NAME}-limit")


_gates_lock = threading.Lock()
_gates: dict[str, CrossProcessGate] = {}


def gate_for(settings: Settings) -> CrossProcessGate:
    """The process's gate for the settings' database (one engine or lock file per database)."""
    url = settings.effective_database_url
    with _gates_lock:
        gate = _gates.get(url)
        if gate is None:
            gate = FileGate(lock_file_path(settings)) if settings.is_sqlite else PostgresGate(url)
            _gates[url] = gate
        return gate


def arxiv_limiter(settings: Settings) -> ArxivLimiter:
    """The process's shared arXiv limiter, held against the other processes of the database."""
    limiter = shared_arxiv_limiter(settings.arxiv_min_interval)
    limiter.gate = gate_for(settings)
    return limiter
