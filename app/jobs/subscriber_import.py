"""The subscriber import flow: rows applied in committed chunks, then the invitations sent.

Rows are applied `chunk` at a time, each chunk in its own transaction with the confirmation
emails it makes due queued in the outbox in the same transaction, so an import stopped half
way keeps what it did and running it again carries on (re-importing is idempotent, see
`app.subscribers.importing`). A dry run applies every chunk and rolls it back: the same
counts, nothing written. Sending the queued confirmations is the caller's choice
(`send_invitations`), under the delivery budgets like every other email; what it leaves
unsent the scheduled delivery run sends.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from app.mail.compose import MailSetup
from app.mail.flows import deliver_outbox
from app.mail.outcomes import DeliverReport
from app.mail.policy import DeliveryPolicy
from app.mail.senders import Sender
from app.mail.service import queue_confirmation
from app.models.statuses import SubscribeOutcome
from app.subscribers.import_rows import ImportRow, ParsedFile, RowError
from app.subscribers.importing import OUTCOMES, import_subscriber, resolve_topics
from app.subscribers.queries import visible_topic_refs
from app.subscribers.service import SubscribeResult
from app.subscribers.validation import InvalidInput

SEND_CHUNK = 1000


@dataclass
class ImportReport:
    counts: Counter[str] = field(default_factory=Counter)
    errors: list[RowError] = field(default_factory=list)
    invitations: list[int] = field(default_factory=list)  # outbox rows of the confirmation emails
    dry_run: bool = False

    def summary(self) -> str:
        parts = [f"{self.counts[name]} {name.replace('_', ' ')}" for name in OUTCOMES if self.counts[name]]
        done = ", ".join(parts) or "no address imported"
        prefix = "dry run, nothing written: " if self.dry_run else ""
        rejected = f"; {len(self.errors)} row(s) rejected" if self.errors else ""
        return f"{prefix}{done}{rejected}"


def import_subscribers(
    factory: sessionmaker[Session],
    parsed: ParsedFile,
    setup: MailSetup,
    *,
    confirmed: bool,
    now: datetime,
    dry_run: bool = False,
    chunk: int = 200,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    """Apply the parsed rows (see the module docstring); the parse errors are carried into the report."""
    report = ImportReport(errors=list(parsed.errors), dry_run=dry_run)
    with factory() as session:
        by_ref = visible_topic_refs(session)
    for start in range(0, len(parsed.rows), chunk):
        rows = parsed.rows[start : start + chunk]
        session = factory()
        try:
            invitations = [_apply(session, row, by_ref, confirmed, now, setup, report) for row in rows]
            if dry_run:
                session.rollback()
            else:
                session.commit()
                report.invitations.extend(i for i in invitations if i is not None)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()
        if progress is not None:
            progress(len(rows))
    report.errors.sort(key=lambda e: e.line)
    return report


def _apply(
    session: Session,
    row: ImportRow,
    by_ref: dict[str, int],
    confirmed: bool,
    now: datetime,
    setup: MailSetup,
    report: ImportReport,
) -> int | None:
    try:
        topic_ids = resolve_topics(row, by_ref)
    except InvalidInput as exc:
        report.errors.append(RowError(row.line, f"{exc.field}: {exc.message}", row.raw))
        return None
    imported = import_subscriber(session, row, topic_ids, confirmed=confirmed, now=now)
    report.counts[imported.outcome] += 1
    if not imported.needs_invitation:
        return None
    return queue_confirmation(
        session, setup, SubscribeResult(SubscribeOutcome.SEND, imported.subscriber), now
    )


def send_invitations(
    factory: sessionmaker[Session],
    sender: Sender,
    setup: MailSetup,
    ids: list[int],
    *,
    policy: DeliveryPolicy,
    progress: Callable[[int], None] | None = None,
) -> DeliverReport:
    """Send the queued confirmation emails of an import now, within the delivery budgets.

    In runs of SEND_CHUNK rows (a long list must not become one query with a parameter per row);
    a run that pauses (error threshold) or meets the daily limit ends the sending.
    """
    total = DeliverReport()
    for start in range(0, len(ids), SEND_CHUNK):
        report = deliver_outbox(
            factory, sender, setup, policy=policy, only_ids=ids[start : start + SEND_CHUNK], progress=progress
        )
        for item in fields(DeliverReport):
            value = getattr(report, item.name)
            if isinstance(value, bool):
                setattr(total, item.name, getattr(total, item.name) or value)
            elif isinstance(value, int | float):
                setattr(total, item.name, getattr(total, item.name) + value)
            elif isinstance(value, list):
                getattr(total, item.name).extend(value)
        if report.paused or report.daily_limit_reached:
            break
    return total
