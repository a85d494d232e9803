"""Fleet-wide sending budgets in PostgreSQL: SMTP connections and messages per second.

However many workers run, on however many machines, they share two budgets kept by the
database, so adding workers never lets the fleet exceed what the relay or provider allows:

* **connections**: a worker opens an SMTP connection only while it holds one of
  `SMTP_CONCURRENCY` session advisory locks (`pg_try_advisory_lock(namespace, slot)`). A session
  lock is released by PostgreSQL when the worker's connection ends, so a killed worker never
  keeps a slot. (This needs a session-pooled or direct connection; see docs/DEPLOY.md.)
* **messages per second**: each message first reserves the next start time in the
  `rate_limits` row named `smtp`, spaced `1 / SMTP_RATE_PER_SECOND` seconds apart on the
  database clock, with one atomic UPDATE (the row lock orders the workers). No window of
  length T holds more than `T * rate + 1` starts, whatever the number of workers.

Used only in scale-out mode; embedded mode has one process and keeps its in-process limiter
(`app.mail.ratelimit`).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from sqlalchemy import create_engine, text
from sqlalchemy.engine import Connection, Engine

RATE_NAME = "smtp"
SLOT_POLL_S = 0.1  # how often a worker waiting for a free connection slot looks again

# One statement reserves a start time: the later of the reserved time and now, plus one interval.
_RESERVE = text(
    """
    INSERT INTO rate_limits (name, next_start)
    VALUES (:name, clock_timestamp() + make_interval(secs => :interval))
    ON CONFLICT (name) DO UPDATE
       SET next_start = GREATEST(rate_limits.next_start, clock_timestamp())
                        + make_interval(secs => :interval)
    RETURNING EXTRACT(EPOCH FROM (next_start - clock_timestamp()))::float8 - :interval
    """
)


def lock_namespace(name: str) -> int:
    """A fixed signed 32-bit key (the first of the two advisory-lock keys), the same everywhere."""
    digest = hashlib.blake2b(f"papertrend:{name}".encode(), digest_size=4).digest()
    return int.from_bytes(digest, "big", signed=True)


class FleetRate:
    """`acquire()` waits for this message's turn in the fleet-wide pace (RateLimiter's interface)."""

    def __init__(
        self, engine: Engine, per_second: float, *, sleep: Callable[[float], None] = time.sleep
    ) -> None:
        if per_second <= 0:
            raise ValueError("rate must be positive")
        self.engine = engine
        self.interval = 1.0 / per_second
        self._sleep = sleep

    def acquire(self) -> float:
        """Reserve the next start; returns how long this call waited (seconds)."""
        with self.engine.connect() as conn:
            wait = float(conn.execute(_RESERVE, {"name": RATE_NAME, "interval": self.interval}).scalar_one())
        if wait > 0:
            self._sleep(wait)
        return max(wait, 0.0)


class FleetConnections:
    """At most `slots` SMTP connections open at once across the fleet."""

    def __init__(self, engine: Engine, slots: int, *, name: str = "smtp-connections") -> None:
        self.engine = engine
        self.slots = slots
        self.namespace = lock_namespace(name)

    def _try(self, conn: Connection) -> int | None:
        for slot in range(self.slots):
            got = conn.execute(
                text("SELECT pg_try_advisory_lock(:ns, :slot)"), {"ns": self.namespace, "slot": slot}
            ).scalar_one()
            if got:
                return slot
        return None

    @contextmanager
    def hold(self, stop: threading.Event | None = None) -> Iterator[int | None]:
        """Wait for a free slot and hold it for the block; yields None if `stop` was set first."""
        conn = self.engine.connect()
        slot: int | None = None
        try:
            while slot is None:
                slot = self._try(conn)
                if slot is None:
                    if stop is not None and stop.wait(SLOT_POLL_S):
                        break
                    if stop is None:
                        time.sleep(SLOT_POLL_S)
            yield slot
        finally:
            if slot is not None:
                try:
                    conn.execute(
                        text("SELECT pg_advisory_unlock(:ns, :slot)"), {"ns": self.namespace, "slot": slot}
                    )
                except Exception:  # closing the connection below ends the session and its lock
                    conn.invalidate()
            conn.close()


class Fleet:
    """The two shared budgets, on their own autocommit connections (one per sending thread)."""

    def __init__(self, url: str, *, connections: int, per_second: float, pool_size: int = 8) -> None:
        # Autocommit: a reservation is visible to the next worker at once and holds no row lock
        # while this one sleeps until its turn.
        self.engine = create_engine(
            url, isolation_level="AUTOCOMMIT", pool_size=pool_size, max_overflow=pool_size, pool_pre_ping=True
        )
        self.rate = FleetRate(self.engine, per_second)
        self.connections = FleetConnections(self.engine, connections)

    def close(self) -> None:
        self.engine.dispose()
