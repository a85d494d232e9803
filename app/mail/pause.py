"""The error threshold: counting a run's errors, pausing sending with an alert, resuming.

When the share of failed attempts in one run passes the policy's threshold, the relay or our
own setup is likely broken, so sending stops and an open `paused` alert blocks every later
run until an operator resolves it (`papertrend mail resume` or /admin).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.mail.outcomes import DeliverReport
from app.mail.policy import DeliveryPolicy
from app.mail.senders import SendResult
from app.models.digest import MailAlert

log = logging.getLogger("papertrend.mail")


def open_pause(session: Session) -> MailAlert | None:
    stmt = select(MailAlert).where(MailAlert.kind == "paused", MailAlert.resolved_at.is_(None))
    return session.scalars(stmt.order_by(MailAlert.id.desc()).limit(1)).first()


def resume(session: Session, now: datetime) -> int:
    """Resolve open pause alerts (operator action). Returns how many were open."""
    rows = session.scalars(
        select(MailAlert).where(MailAlert.kind == "paused", MailAlert.resolved_at.is_(None))
    )
    count = 0
    for row in rows:
        row.resolved_at = now
        count += 1
    session.flush()
    return count


@dataclass
class ErrorTally:
    """Attempts and errors of this run, for the error threshold (counted as results arrive)."""

    attempted: int = 0
    errors: int = 0

    def add(self, result: SendResult | None, policy: DeliveryPolicy) -> bool:
        """Count one result; True when the run's error share has passed the threshold.

        A message refused for its address alone (stage `address`: the relay cannot carry it)
        says nothing about the relay's health and is not counted.
        """
        if result is not None and result.stage != "address":
            self.attempted += 1
            self.errors += not result.ok
        return self.attempted >= policy.min_sample and self.errors / self.attempted > policy.error_threshold


def raise_pause_alert(session: Session, report: DeliverReport, now: datetime, policy: DeliveryPolicy) -> None:
    message = (
        f"Sending paused: {report.deferred + report.failed} of {report.attempted} attempts failed in one run "
        f"(threshold {policy.error_threshold:.0%}). Check the SMTP relay and the failures on /admin, "
        "then resume with `papertrend mail resume`."
    )
    session.add(
        MailAlert(
            kind="paused",
            message=message,
            created_at=now,
            details={"sent": report.sent, "deferred": report.deferred, "failed": report.failed},
        )
    )
    log.error(message)
