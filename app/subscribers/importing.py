"""Importing subscribers from another tool, one validated row at a time (a service: never commits).

What happens to each address (`Imported.outcome`):

* new, with the operator's attestation of consent (`confirmed`): added as confirmed (`added`);
* new, without it: added as pending, and a confirmation (double opt-in) email is due
  (`invited`); the caller queues and sends it;
* already pending and now attested: confirmed (`confirmed`); not attested: left as it is,
  no second email (`already_invited`);
* already confirmed: left as it is, its own choices kept (`unchanged`);
* unsubscribed or on the suppression list: left alone (`unsubscribed`, `suppressed`): a list
  from elsewhere never overrides someone's decision here.

So importing the same file twice changes nothing the second time. The `authors` and `exclude`
columns are kept in the `imported` event of each new subscriber until profiles hold them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from app.models import Subscriber
from app.models.statuses import SubscriberStatus
from app.models.subscriber import new_link_key
from app.subscribers import queries
from app.subscribers.import_rows import ImportRow
from app.subscribers.service import apply_profile
from app.subscribers.validation import InvalidInput

OUTCOMES = ("added", "invited", "confirmed", "already_invited", "unchanged", "unsubscribed", "suppressed")


@dataclass(frozen=True)
class Imported:
    outcome: str
    subscriber: Subscriber | None = None

    @property
    def needs_invitation(self) -> bool:
        return self.outcome == "invited"


def resolve_topics(row: ImportRow, by_ref: Mapping[str, int]) -> list[int]:
    """Topic ids of a row's slugs or ids; an unknown one is an error for that row."""
    unknown = [ref for ref in row.topic_refs if ref not in by_ref and ref.lower() not in by_ref]
    if unknown:
        shown = ", ".join(repr(ref) for ref in unknown[:5])
        raise InvalidInput("topics", f"no visible topic {shown} (use the slugs shown on /topics)")
    return sorted({by_ref.get(ref, by_ref.get(ref.lower(), 0)) for ref in row.topic_refs})


def import_subscriber(
    session: Session, row: ImportRow, topic_ids: list[int], *, confirmed: bool, now: datetime
) -> Imported:
    """Apply one row (see the module docstring); flushes, never commits."""
    if queries.is_suppressed(session, row.email):
        return Imported("suppressed")
    existing = queries.by_email(session, row.email)
    if existing is not None:
        return _existing(session, existing, confirmed=confirmed, now=now)
    subscriber = Subscriber(
        email=row.email,
        status=SubscriberStatus.CONFIRMED if confirmed else SubscriberStatus.PENDING,
        source="import",
        frequency=row.frequency,
        link_key=new_link_key(),
        created_at=now,
        confirmed_at=now if confirmed else None,
        confirm_sent_at=None if confirmed else now,
    )
    session.add(subscriber)
    session.flush()
    if topic_ids:
        queries.set_topics(session, subscriber.id, topic_ids)
    _apply_profile(session, subscriber, row, now)
    queries.add_event(
        session,
        subscriber.id,
        "imported",
        now,
        consent="attested by the operator" if confirmed else "double opt-in",
        line=row.line,
        authors=list(row.authors),
        exclude=list(row.exclude),
    )
    if confirmed:
        queries.add_event(session, subscriber.id, "confirmed", now, via="import")
    session.flush()
    return Imported("added" if confirmed else "invited", subscriber)


def _apply_profile(session: Session, subscriber: Subscriber, row: ImportRow, now: datetime) -> None:
    """An imported row's profile columns, through the same `apply_profile` as every other path."""
    apply_profile(
        session,
        subscriber,
        keywords=", ".join(row.keywords) if row.keywords else None,
        interest=row.interest,
        authors="; ".join(row.authors) if row.authors else None,
        exclude=", ".join(row.exclude) if row.exclude else None,
        now=now,
    )


def _existing(session: Session, subscriber: Subscriber, *, confirmed: bool, now: datetime) -> Imported:
    if subscriber.status == SubscriberStatus.CONFIRMED:
        return Imported("unchanged", subscriber)
    if subscriber.status == SubscriberStatus.UNSUBSCRIBED:
        return Imported("unsubscribed", subscriber)
    if not confirmed:
        return Imported("already_invited", subscriber)
    subscriber.status = SubscriberStatus.CONFIRMED
    subscriber.confirmed_at = now
    subscriber.token_version += 1  # the confirmation link already sent stops working
    queries.add_event(session, subscriber.id, "confirmed", now, via="import")
    session.flush()
    return Imported("confirmed", subscriber)
