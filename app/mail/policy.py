"""The budgets and timings of outbox delivery: rate, daily limit, leases, batches and backoff.

Plain values only, so every part of delivery (claiming, recording, the send loop) can share
one policy without importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.config import Settings


@dataclass(frozen=True)
class DeliveryPolicy:
    rate_per_second: float = 20.0
    daily_limit: int = 50_000
    concurrency: int = 2
    error_threshold: float = 0.2
    min_sample: int = 20  # attempts in a run before the error share can pause sending
    lease_seconds: int = 300
    batch_size: int = 200
    commit_every: int = 50  # results written per transaction (a kill resends at most these)
    backoff_base_s: int = 300
    backoff_max_s: int = 7200
    max_attempts: int = 15

    @classmethod
    def from_settings(cls, settings: Settings) -> DeliveryPolicy:
        return cls(
            rate_per_second=settings.smtp_rate_per_second,
            daily_limit=settings.smtp_daily_limit,
            concurrency=settings.smtp_concurrency,
            error_threshold=settings.mail_error_threshold,
            lease_seconds=settings.mail_lease_seconds,
        )

    @property
    def renew_every_s(self) -> float:
        """How often a sending worker extends its leases: three chances before one runs out."""
        return self.lease_seconds / 3

    def backoff(self, attempts: int) -> timedelta:
        return timedelta(seconds=min(self.backoff_base_s * 2 ** max(attempts - 1, 0), self.backoff_max_s))
