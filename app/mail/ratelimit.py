"""Sending budgets: a per-second pace shared by all sending threads, with an injectable clock.

Each `acquire()` reserves the next free slot, spaced `1 / rate` seconds apart, so no
half-open one-second window ever holds more than `ceil(rate)` sends, however many threads
ask at once. Tests pass a fake clock and a sleep that advances it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class RateLimiter:
    def __init__(
        self,
        per_second: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_second <= 0:
            raise ValueError("rate must be positive")
        self.interval = 1.0 / per_second
        self._clock = clock
        self._sleep = sleep
        self._next = float("-inf")
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait for the next slot; returns the clock time the slot starts at."""
        with self._lock:
            now = self._clock()
            slot = max(now, self._next)
            self._next = slot + self.interval
        wait = slot - now
        if wait > 0:
            self._sleep(wait)
        return slot
