"""Building due digests: the entry points that tie due computation, planning and writing together.

`build_due_digests` never commits. It returns plain `BuiltDigest` objects that the mail
layer renders into outbox rows in the same transaction, so a digest and its email are
created together or not at all. Who is due lives in `due`, what each subscriber gets in
`plan`, the shared data in `built`; this module refreshes interest vectors and writes the
Digest/DigestItem rows.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from app.digest import queries, schedule
from app.digest.built import BuildReport, BuiltDigest, DigestOptions, TextEncoder, VectorLoader
from app.digest.due import Due, due_subscribers, preview_due
from app.digest.plan import plan
from app.models import Subscriber, SubscriberInterest

log = logging.getLogger("papertrend.digest")


def build_due_digests(
    session: Session,
    *,
    now: datetime,
    options: DigestOptions,
    encoder: TextEncoder | None = None,
    load_vectors: VectorLoader | None = None,
    only_subscriber_ids: list[int] | None = None,
) -> BuildReport:
    """Create the digests of every subscriber whose send hour has come in their time zone."""
    started = time.perf_counter()
    report = BuildReport()
    subscribers = queries.mailable_subscribers(session, only_subscriber_ids)
    report.subscribers = len(subscribers)
    first = any(s.last_digest_at is None for s in subscribers)
    due = due_subscribers(subscribers, now, _first_since(session, now, options) if first else now.date())
    built = queries.built_periods(session, {d.period for d in due})
    report.already_built = sum((d.subscriber.id, d.period) in built for d in due)
    due = [d for d in due if (d.subscriber.id, d.period) not in built]
    report.due = len(due)
    if due:
        report.interests_encoded = _refresh_interests(
            _with_named(session, [d.subscriber for d in due]), encoder, options.model_name
        )
        planned = plan(session, due, options, load_vectors, report)
        _write(session, planned, now, report)
    report.seconds = time.perf_counter() - started
    return report


def preview_digest(
    session: Session,
    subscriber: Subscriber,
    *,
    now: datetime,
    options: DigestOptions,
    encoder: TextEncoder | None = None,
    load_vectors: VectorLoader | None = None,
) -> BuiltDigest | None:
    """What the subscriber's next digest would hold right now; writes no digest."""
    first_since = _first_since(session, now, options) if subscriber.last_digest_at is None else now.date()
    due = preview_due(subscriber, now, first_since)
    _refresh_interests(_with_named(session, [subscriber]), encoder, options.model_name)
    planned = plan(session, [due], options, load_vectors, BuildReport())
    return planned[0][0] if planned else None


def _first_since(session: Session, now: datetime, options: DigestOptions) -> date:
    """Where first digests start: after the day before the latest `first_days` days with papers."""
    today = now.date()
    recent = queries.recent_paper_days(session, until=today + timedelta(days=1), count=options.first_days)
    return schedule.first_window_start(recent, today, options.first_days)


def _write(
    session: Session, planned: list[tuple[BuiltDigest, Due]], now: datetime, report: BuildReport
) -> None:
    rows = [
        {
            "subscriber_id": b.subscriber_id,
            "period": b.period,
            "frequency": b.frequency,
            "kind": b.kind,
            "subject": b.subject,
            "item_count": len(b.items),
            "created_at": now,
        }
        for b, _ in planned
    ]
    ids = queries.insert_digests(session, rows)
    item_rows = []
    for built, d in planned:
        if built.subscriber_id not in ids:
            report.already_built += 1  # built concurrently by another process
            continue
        built.digest_id = ids[built.subscriber_id]
        d.subscriber.last_digest_at = now
        item_rows += [
            {
                "digest_id": built.digest_id,
                "paper_id": it.paper_id,
                "rank": it.rank,
                "score": it.score,
                "reason": it.reason[:300],
                "section": it.section,
            }
            for it in built.items
        ]
        report.built += built.kind == "digest"
        report.quiet += built.kind == "quiet"
        report.items += len(built.items)
        report.digests.append(built)
    queries.insert_items(session, item_rows)
    session.flush()


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a batch allocates many small acyclic objects (digests,
    items, rows): full collections would rescan them again and again (a fifth of a build's time)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _with_named(session: Session, subscribers: list[Subscriber]) -> list[Subscriber | SubscriberInterest]:
    """The subscribers and their named interests: everything with an interest text to encode."""
    named = queries.named_interests(session, [s.id for s in subscribers])
    out: list[Subscriber | SubscriberInterest] = list(subscribers)
    for rows in named.values():
        out += rows
    return out


def _refresh_interests(
    subscribers: list[Subscriber | SubscriberInterest], encoder: TextEncoder | None, model: str | None
) -> int:
    if encoder is None:
        return 0
    stale = [
        s for s in subscribers if s.interest_text and (s.interest_vector is None or s.interest_model != model)
    ]
    if not stale:
        return 0
    matrix = encoder.encode([s.interest_text or "" for s in stale])
    for sub, row in zip(stale, matrix, strict=True):
        sub.interest_vector = np.asarray(row, dtype=np.float32).tobytes()
        sub.interest_model = encoder.model_name
    return len(stale)
