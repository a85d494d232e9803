"""Reads for digest building, in a few set-based queries (a build covers thousands of subscribers)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar, cast

from sqlalchemy import Table, and_, func, insert, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.db import dialect_name
from app.models import (
    Digest,
    DigestItem,
    Feedback,
    Paper,
    PaperScore,
    PaperTopic,
    Subscriber,
    SubscriberInterest,
    SubscriberTopic,
    Suppression,
    Topic,
)
from app.models.statuses import SubscriberStatus

T = TypeVar("T")
CHUNK = 900


def _chunks(items: list[T], size: int = CHUNK) -> Iterator[list[T]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def mailable_subscribers(session: Session, only_ids: Iterable[int] | None = None) -> list[Subscriber]:
    """Confirmed, not paused, not on the suppression list (skipped at enqueue)."""
    stmt = (
        select(Subscriber)
        .outerjoin(Suppression, Suppression.email == Subscriber.email)
        .where(
            Subscriber.status == SubscriberStatus.CONFIRMED,
            Subscriber.frequency != "paused",
            Suppression.email.is_(None),
        )
        .order_by(Subscriber.id)
    )
    if only_ids is not None:
        stmt = stmt.where(Subscriber.id.in_(list(only_ids)))
    return list(session.scalars(stmt))


def built_periods(session: Session, periods: set[str]) -> set[tuple[int, str]]:
    if not periods:
        return set()
    rows = session.execute(
        select(Digest.subscriber_id, Digest.period).where(Digest.period.in_(sorted(periods)))
    )
    return {(sid, period) for sid, period in rows}


@dataclass(frozen=True)
class PaperRow:
    id: int
    public_id: str
    title: str
    abstract: str
    authors: list[str]
    day: date | None
    created_at: datetime
    abs_url: str | None
    code_url: str | None
    upvotes: int | None
    day_kind: str = "announced"  # what `day` is: announced | published | first seen


def _start(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def pool_papers(
    session: Session, since_day: date, since_ts: datetime | None, until: datetime
) -> list[PaperRow]:
    """Papers announced after `since_day`, or ingested after `since_ts`, and announced no later than
    `until` (the build time: a digest built "as of" a moment never takes later papers); withdrawn
    papers never.

    A paper's day is its announcement day; without one, its publication day; without that
    either (a file without dates), the day it was first seen here.
    """
    next_day = since_day + timedelta(days=1)
    not_later = or_(
        Paper.announced_date <= until.date(),
        and_(Paper.announced_date.is_(None), Paper.published_at <= until),
        and_(Paper.announced_date.is_(None), Paper.published_at.is_(None), Paper.created_at <= until),
    )
    announced = or_(
        Paper.announced_date > since_day,
        and_(Paper.announced_date.is_(None), Paper.published_at >= _start(next_day)),
        and_(
            Paper.announced_date.is_(None),
            Paper.published_at.is_(None),
            Paper.created_at >= _start(next_day),
        ),
    )
    condition = or_(announced, Paper.created_at > since_ts) if since_ts is not None else announced
    cols = (
        Paper.id,
        Paper.arxiv_id,
        Paper.source,
        Paper.source_id,
        Paper.title,
        Paper.abstract,
        Paper.authors,
        Paper.announced_date,
        Paper.published_at,
        Paper.created_at,
        Paper.abs_url,
        Paper.code_url,
        Paper.upvotes,
    )
    rows = session.execute(
        select(*cols).where(condition, not_later, Paper.withdrawn.is_(False)).order_by(Paper.id)
    )
    out = []
    for r in rows:
        day, kind = day_of(r.announced_date, r.published_at, r.created_at)
        out.append(
            PaperRow(
                id=r.id,
                public_id=r.arxiv_id or f"{r.source}:{r.source_id}",
                title=r.title,
                abstract=r.abstract or "",
                authors=list(r.authors or []),
                day=day,
                created_at=r.created_at,
                abs_url=r.abs_url,
                code_url=r.code_url,
                upvotes=r.upvotes,
                day_kind=kind,
            )
        )
    return out


def day_of(announced: date | None, published: datetime | None, created: datetime) -> tuple[date, str]:
    """A paper's day for digests and what it is (see `pool_papers`)."""
    if announced is not None:
        return announced, "announced"
    if published is not None:
        return published.date(), "published"
    return created.date(), "first seen"


def recent_paper_days(session: Session, *, until: date, count: int) -> list[date]:
    """The `count` latest days (on or before `until`) that have papers, newest first.

    Walks down one day at a time with three indexed maxima (announcement day; publication time
    of papers without one; first-seen time of papers with neither), so it costs a few small
    queries however large the archive is.
    """
    days: list[date] = []
    below = until + timedelta(days=1)  # exclusive upper bound
    live = Paper.withdrawn.is_(False)
    for _ in range(count):
        announced = session.scalar(
            select(func.max(Paper.announced_date)).where(live, Paper.announced_date < below)
        )
        published = session.scalar(
            select(func.max(Paper.published_at)).where(
                live, Paper.announced_date.is_(None), Paper.published_at < _start(below)
            )
        )
        seen = session.scalar(
            select(func.max(Paper.created_at)).where(
                live,
                Paper.announced_date.is_(None),
                Paper.published_at.is_(None),
                Paper.created_at < _start(below),
            )
        )
        found = [d for d in (_as_date(announced), _as_date(published), _as_date(seen)) if d is not None]
        if not found:
            break
        day = max(found)
        days.append(day)
        below = day
    return days


def _as_date(value: Any) -> date | None:
    """A date from a column maximum (SQLite returns text for aggregates of dates and times)."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return (value if value.tzinfo is None else value.astimezone(UTC)).date()
    if isinstance(value, date):
        return value
    text = str(value)
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return date.fromisoformat(text[:10])
    return (parsed if parsed.tzinfo is None else parsed.astimezone(UTC)).date()


@dataclass(frozen=True)
class TopicRow:
    id: int
    slug: str
    label: str
    kind: str = "area"  # area | subtopic | technique
    parent_id: int | None = None


def visible_topics(session: Session) -> dict[int, TopicRow]:
    rows = session.execute(
        select(Topic.id, Topic.slug, Topic.label, Topic.kind, Topic.parent_id).where(Topic.hidden.is_(False))
    )
    return {r.id: TopicRow(r.id, r.slug, r.label, r.kind, r.parent_id) for r in rows}


def named_interests(session: Session, subscriber_ids: list[int]) -> dict[int, list[SubscriberInterest]]:
    """subscriber id → their named interests, in their order."""
    out: dict[int, list[SubscriberInterest]] = defaultdict(list)
    for chunk in _chunks(subscriber_ids):
        stmt = (
            select(SubscriberInterest)
            .where(SubscriberInterest.subscriber_id.in_(chunk))
            .order_by(SubscriberInterest.subscriber_id, SubscriberInterest.position, SubscriberInterest.id)
        )
        for row in session.scalars(stmt):
            out[row.subscriber_id].append(row)
    return out


@dataclass(frozen=True)
class MarkedRow:
    title: str
    authors: list[str]
    abstract: str = ""


def marked_papers(session: Session, paper_ids: list[int]) -> dict[int, MarkedRow]:
    """Title, authors and abstract of papers subscribers marked (for what their digest learns)."""
    out: dict[int, MarkedRow] = {}
    for chunk in _chunks(paper_ids):
        for pid, title, authors, abstract in session.execute(
            select(Paper.id, Paper.title, Paper.authors, Paper.abstract).where(Paper.id.in_(chunk))
        ):
            out[pid] = MarkedRow(title, list(authors or []), abstract or "")
    return out


def paper_topics(session: Session, paper_ids: list[int], visible: set[int]) -> dict[int, dict[int, float]]:
    out: dict[int, dict[int, float]] = defaultdict(dict)
    for chunk in _chunks(paper_ids):
        stmt = select(PaperTopic.paper_id, PaperTopic.topic_id, PaperTopic.score).where(
            PaperTopic.paper_id.in_(chunk)
        )
        for pid, tid, score in session.execute(stmt):
            if tid in visible:
                out[pid][tid] = float(score)
    return out


def trending_scores(session: Session, paper_ids: list[int], windows: tuple[str, ...]) -> dict[int, float]:
    """The paper's score in the first window (of `windows`) that has one."""
    found: dict[int, dict[str, float]] = defaultdict(dict)
    for chunk in _chunks(paper_ids):
        stmt = select(PaperScore.paper_id, PaperScore.window, PaperScore.score).where(
            PaperScore.paper_id.in_(chunk), PaperScore.window.in_(windows)
        )
        for pid, window, score in session.execute(stmt):
            found[pid][window] = float(score)
    return {pid: next(by[w] for w in windows if w in by) for pid, by in found.items()}


def subscriber_topics(session: Session) -> dict[int, set[int]]:
    """Each subscriber's topics, with a merged topic replaced by the topic it was merged into."""
    rows = session.execute(select(Topic.id, Topic.merged_into_id).where(Topic.merged_into_id.is_not(None)))
    merged: dict[int, int] = {tid: into for tid, into in rows if into is not None}

    def final(tid: int) -> int:
        seen = set()
        while tid in merged and tid not in seen:  # follow chains of merges, never loop
            seen.add(tid)
            tid = merged[tid]
        return tid

    out: dict[int, set[int]] = defaultdict(set)
    for sid, tid in session.execute(select(SubscriberTopic.subscriber_id, SubscriberTopic.topic_id)):
        out[sid].add(final(tid))
    return out


def feedback(session: Session) -> dict[int, list[tuple[str, int | None, int | None]]]:
    out: dict[int, list[tuple[str, int | None, int | None]]] = defaultdict(list)
    stmt = select(Feedback.subscriber_id, Feedback.kind, Feedback.paper_id, Feedback.topic_id).order_by(
        Feedback.id
    )
    for sid, kind, pid, tid in session.execute(stmt):
        out[sid].append((kind, pid, tid))
    return out


def already_sent(session: Session, paper_ids: list[int]) -> dict[int, set[int]]:
    """subscriber id → the pool papers some earlier digest of theirs already carried."""
    out: dict[int, set[int]] = defaultdict(set)
    for chunk in _chunks(paper_ids):
        stmt = (
            select(Digest.subscriber_id, DigestItem.paper_id)
            .join(Digest, Digest.id == DigestItem.digest_id)
            .where(DigestItem.paper_id.in_(chunk))
        )
        for sid, pid in session.execute(stmt):
            out[sid].add(pid)
    return out


def insert_digests(session: Session, rows: list[dict[str, Any]]) -> dict[int, int]:
    """Insert digests, skipping any (subscriber, period) that exists; subscriber id → new digest id."""
    if not rows:
        return {}
    dialect = dialect_name(session)
    stmt: Any
    table = cast(Table, Digest.__table__)  # Core statements: no ORM bookkeeping for thousands of rows
    if dialect == "postgresql":
        stmt = postgresql.insert(table).on_conflict_do_nothing(index_elements=["subscriber_id", "period"])
    elif dialect == "sqlite":
        stmt = sqlite.insert(table).on_conflict_do_nothing(index_elements=["subscriber_id", "period"])
    else:  # pragma: no cover - only the two supported databases
        stmt = insert(table)
    out: dict[int, int] = {}
    for chunk in _chunks(rows, 500):
        result = session.execute(stmt.returning(table.c.id, table.c.subscriber_id), chunk)
        out.update({sid: did for did, sid in result})
    return out


def insert_items(session: Session, rows: list[dict[str, Any]]) -> None:
    for chunk in _chunks(rows, 2000):
        session.execute(insert(cast(Table, DigestItem.__table__)), chunk)
