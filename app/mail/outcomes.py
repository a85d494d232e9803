"""Recording what each send attempt got back: sent, deferred with backoff, failed, expired.

One group of results is written per transaction, each row only while the writer still holds
its lease, so a worker that lost a lease can never overwrite what the row's new holder did.
A permanent refusal of the recipient also puts the address on the suppression list.
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
    owner: str,
) -> set[int]:
    """Write the results of one group of attempts (one transaction); returns the ids not written.

    A result is written only while `owner` still holds the row's lease (`lease_owner = owner AND
    status = 'sending'`): a worker whose lease ran out and was taken over records nothing, so the
    row's new holder decides its fate. The caller stops sending that chunk.
    """
    lost: set[int] = set()
    for item, result in outcomes:
        values = _values(item, result, now, policy)
        stmt = (
            update(Delivery)
            .where(
                Delivery.id == item.id,
                Delivery.lease_owner == owner,
                Delivery.status == DeliveryStatus.SENDING,
            )
            .values(lease_owner=None, lease_until=None, **values)
            .execution_options(synchronize_session=False)
        )
        if session.execute(stmt).rowcount != 1:  # type: ignore[attr-defined]
            lost.add(item.id)
            continue
        _count(report, values["status"])
        if (
            result is not None
            and _suppresses(result)
            and suppress(
                session,
                item.recipient,
                kind="bounce",
                reason=f"{result.code} {result.reply}",
                source="smtp",
                now=now,
            )
        ):
            report.suppressed += 1
    session.flush()
    return lost


def _count(report: DeliverReport, status: str) -> None:
    if status == DeliveryStatus.QUEUED:
        report.released += 1
    elif status == DeliveryStatus.SENT:
        report.sent += 1
    elif status == DeliveryStatus.FAILED:
        report.failed += 1
    elif status == DeliveryStatus.EXPIRED:
        report.expired += 1
    else:
        report.deferred += 1


def _values(
    item: Claimed, result: SendResult | None, now: datetime, policy: DeliveryPolicy
) -> dict[str, Any]:
    """The columns one attempt's result sets (besides clearing the lease)."""
    if result is None:  # never attempted (sending paused or lease lost): back to the queue, not counted
        return {"status": DeliveryStatus.QUEUED, "attempts": item.attempts - 1}
    base: dict[str, Any] = {"smtp_code": result.code, "smtp_reply": result.reply}
    if result.status == "sent":
        return {**base, "status": DeliveryStatus.SENT, "sent_at": now, "last_error": None}
    if result.status == "failed":
        return {**base, "status": DeliveryStatus.FAILED, "last_error": f"permanent failure at {result.stage}"}
    note = "outcome unknown (connection lost during DATA)" if result.status == "unknown" else "transient"
    if item.stale_after is not None and now + policy.backoff(item.attempts) > item.stale_after:
        return {
            **base,
            "status": DeliveryStatus.EXPIRED,
            "last_error": f"{note}; past the staleness deadline",
        }
    return {
        **base,
        "status": DeliveryStatus.DEFERRED,
        "next_attempt_at": now + policy.backoff(item.attempts),
        "last_error": note,
    }
