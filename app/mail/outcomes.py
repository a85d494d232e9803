"""Recording what each send attempt got back: sent, deferred with backoff, failed, expired.

One group of results is written per transaction with one executemany per column set, so a
large run stays fast and a killed worker resends at most one group. A permanent refusal of
the recipient also puts the address on the suppression list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session

from app.mail.leases import Claimed
from app.mail.policy import DeliveryPolicy
from app.mail.senders import SendResult
from app.models import Delivery
from app.models.statuses import DeliveryStatus
from app.subscribers.suppression import suppress


@dataclass
class DeliverReport:
    claimed: int = 0
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    expired: int = 0
    skipped: int = 0
    recovered: int = 0
    released: int = 0
    suppressed: int = 0
    paused: bool = False
    daily_limit_reached: bool = False
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)

    @property
    def attempted(self) -> int:
        return self.sent + self.deferred + self.failed

    def summary(self) -> str:
        text = (
            f"{self.sent} sent, {self.deferred} deferred, {self.failed} failed, {self.expired} expired, "
            f"{self.skipped} skipped, {self.recovered} recovered; {self.seconds:.1f}s"
        )
        if self.paused:
            text += "; SENDING PAUSED (error threshold): see /admin, resume with `papertrend mail resume`"
        if self.daily_limit_reached:
            text += "; daily limit reached, the rest waits"
        return text


_POLICY_REJECTION = re.compile(r"\b5\.7\.\d+\b")


def _suppresses(result: SendResult) -> bool:
    """A permanent refusal of the recipient (RCPT/DATA), not of us (5.7.x: authentication, policy)."""
    return (
        result.status == "failed"
        and result.code is not None
        and 500 <= result.code < 600
        and result.stage in ("rcpt", "data")
        and not _POLICY_REJECTION.search(result.reply)
    )


def record(
    session: Session,
    outcomes: list[tuple[Claimed, SendResult | None]],
    *,
    now: datetime,
    policy: DeliveryPolicy,
    report: DeliverReport,
) -> None:
    """Write the results of one group of attempts (one transaction)."""
    values: list[dict[str, Any]] = []
    for item, result in outcomes:
        base: dict[str, Any] = {"id": item.id, "lease_owner": None, "lease_until": None}
        if result is None:  # never attempted (sending paused): back to the queue, attempt not counted
            values.append({**base, "status": DeliveryStatus.QUEUED, "attempts": item.attempts - 1})
            report.released += 1
            continue
        base.update(smtp_code=result.code, smtp_reply=result.reply)
        if result.status == "sent":
            values.append({**base, "status": DeliveryStatus.SENT, "sent_at": now, "last_error": None})
            report.sent += 1
        elif result.status == "failed":
            values.append(
                {
                    **base,
                    "status": DeliveryStatus.FAILED,
                    "last_error": f"permanent failure at {result.stage}",
                }
            )
            report.failed += 1
            if _suppresses(result) and suppress(
                session,
                item.recipient,
                kind="bounce",
                reason=f"{result.code} {result.reply}",
                source="smtp",
                now=now,
            ):
                report.suppressed += 1
        else:
            note = (
                "outcome unknown (connection lost during DATA)" if result.status == "unknown" else "transient"
            )
            if item.stale_after is not None and now + policy.backoff(item.attempts) > item.stale_after:
                values.append(
                    {
                        **base,
                        "status": DeliveryStatus.EXPIRED,
                        "last_error": f"{note}; past the staleness deadline",
                    }
                )
                report.expired += 1
            else:
                values.append(
                    {
                        **base,
                        "status": DeliveryStatus.DEFERRED,
                        "next_attempt_at": now + policy.backoff(item.attempts),
                        "last_error": note,
                    }
                )
                report.deferred += 1
    if values:
        for group in _same_keys(values):
            session.execute(update(Delivery), group)
    session.flush()


def _same_keys(values: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    # One executemany UPDATE runs a single statement for all its rows, so rows are grouped by the
    # columns they set.
    groups: dict[tuple[str, ...], list[dict[str, Any]]] = {}
    for v in values:
        groups.setdefault(tuple(sorted(v)), []).append(v)
    return list(groups.values())
