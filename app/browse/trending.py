"""Trending papers for a window (day, week, month) ending on a day, with a topic filter and pages.

Papers are ranked by their trending score for the window (PaperScore). Before the first
trends run there are no scores, and the list falls back to newest first, so a fresh
install still shows its papers.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.browse.cards import cards_for, chip, visible_topic
from app.browse.inputs import identifier
from app.browse.types import WINDOW_DAYS, WINDOWS, TopicChip, TrendingResult
from app.models import Paper, PaperScore, PaperTopic, Topic

MAX_PER_PAGE = 100
CHIP_LIMIT = 12


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def up_to_today(day: date | None, today: date | None) -> date | None:
    """A day a page links to as the next one, unless it lies after `today` (nothing is there yet)."""
    return None if today is not None and day is not None and day > today else day


def in_days(start: date, end: date) -> ColumnElement[bool]:
    """Papers whose day (announcement date, else publication date) lies in [start, end]."""
    return or_(
        and_(Paper.announced_date >= start, Paper.announced_date <= end),
        and_(
            Paper.announced_date.is_(None),
            Paper.published_at >= _start_of(start),
            Paper.published_at < _start_of(end + timedelta(days=1)),
        ),
    )


def window_start(window: str, day: date) -> date:
    return day - timedelta(days=WINDOW_DAYS[window] - 1)


def latest_day(session: Session, *, today: date | None = None) -> date | None:
    """The most recent day that has papers (not after `today` when given)."""
    announced = select(func.max(Paper.announced_date))
    published = select(func.max(Paper.published_at)).where(Paper.announced_date.is_(None))
    if today is not None:
        announced = announced.where(Paper.announced_date <= today)
        published = published.where(Paper.published_at < _start_of(today + timedelta(days=1)))
    a: date | None = session.scalar(announced)
    p: datetime | None = session.scalar(published)
    candidates = [d for d in (a, p.date() if p else None) if d is not None]
    return max(candidates) if candidates else None


def _neighbour_day(session: Session, day: date, *, before: bool) -> date | None:
    """The closest day before (or after) `day` that has papers."""
    if before:
        a = session.scalar(select(func.max(Paper.announced_date)).where(Paper.announced_date < day))
        p = session.scalar(
            select(func.max(Paper.published_at)).where(
                Paper.announced_date.is_(None), Paper.published_at < _start_of(day)
            )
        )
        found = [d for d in (a, p.date() if p else None) if d is not None]
        return max(found) if found else None
    a = session.scalar(select(func.min(Paper.announced_date)).where(Paper.announced_date > day))
    p = session.scalar(
        select(func.min(Paper.published_at)).where(
            Paper.announced_date.is_(None), Paper.published_at >= _start_of(day + timedelta(days=1))
        )
    )
    found = [d for d in (a, p.date() if p else None) if d is not None]
    return min(found) if found else None


def find_topic(session: Session, slug: str) -> Topic | None:
    return session.scalar(select(Topic).where(Topic.slug == identifier(slug)))


def member_topic_ids(session: Session, topic: Topic) -> list[int]:
    """The topic and, for an area, its visible subtopics: the topics whose papers count as its own."""
    if topic.kind != "area":
        return [topic.id]
    children = session.scalars(
        select(Topic.id).where(Topic.parent_id == topic.id, visible_topic()).order_by(Topic.id)
    ).all()
    return [topic.id, *children]


def has_scores(session: Session, window: str) -> bool:
    return bool(session.scalar(select(exists().where(PaperScore.window == window))))


def _filtered(stmt: Select[Any], start: date, end: date, topic_ids: list[int] | None) -> Select[Any]:
    stmt = stmt.where(in_days(start, end), Paper.withdrawn.is_(False))
    if topic_ids is not None:
        stmt = stmt.where(Paper.id.in_(select(PaperTopic.paper_id).where(PaperTopic.topic_id.in_(topic_ids))))
    return stmt


def window_chips(
    session: Session, start: date, end: date, *, limit: int = CHIP_LIMIT
) -> list[tuple[TopicChip, int]]:
    """Topics with papers in the window, most papers first: the filter chips."""
    count = func.count(PaperTopic.paper_id).label("n")
    rows = session.execute(
        select(Topic, count)
        .join(PaperTopic, PaperTopic.topic_id == Topic.id)
        .join(Paper, Paper.id == PaperTopic.paper_id)
        .where(visible_topic(), in_days(start, end), Paper.withdrawn.is_(False))
        .group_by(Topic.id)
        .order_by(count.desc(), Topic.label)
        .limit(limit)
    ).all()
    return [(chip(topic), int(n)) for topic, n in rows]


def trending(
    session: Session,
    *,
    window: str = "day",
    day: date | None = None,
    topic_slug: str | None = None,
    page: int = 1,
    per_page: int = 20,
    today: date | None = None,
    with_chips: bool = True,
) -> TrendingResult:
    """Trending papers of the window ending on `day` (default: the latest day with papers).

    Raises ValueError for an unknown window and LookupError for an unknown topic slug.
    """
    if window not in WINDOWS:
        raise ValueError(f"window must be one of {', '.join(WINDOWS)}")
    page = max(1, page)
    per_page = max(1, min(per_page, MAX_PER_PAGE))
    topic: Topic | None = None
    if topic_slug:
        topic = find_topic(session, topic_slug)
        if topic is None or topic.hidden:
            raise LookupError(f"no topic {topic_slug!r}")
    latest = latest_day(session, today=today)
    anchor = day or latest
    if anchor is None:
        return TrendingResult(
            window, None, None, [], 0, page, per_page, False, chip(topic) if topic else None
        )
    start = window_start(window, anchor)
    # An area's list holds its subtopics' papers too.
    topic_ids = member_topic_ids(session, topic) if topic else None

    ps = aliased(PaperScore)
    total = int(session.scalar(_filtered(select(func.count(Paper.id)), start, anchor, topic_ids)) or 0)
    rows = session.execute(
        _filtered(
            select(Paper, ps.score, ps.components).outerjoin(
                ps, and_(ps.paper_id == Paper.id, ps.window == window)
            ),
            start,
            anchor,
            topic_ids,
        )
        .order_by(ps.score.desc().nulls_last(), Paper.published_at.desc().nulls_last(), Paper.id.desc())
        .offset((page - 1) * per_page)
        .limit(per_page)
    ).all()
    papers = [row[0] for row in rows]
    scores = {row[0].id: (float(row[1]), dict(row[2] or {})) for row in rows if row[1] is not None}
    cards = cards_for(session, papers, scores=scores, first_rank=(page - 1) * per_page + 1)

    if window == "day":
        prev_day = _neighbour_day(session, anchor, before=True)
        next_day = _neighbour_day(session, anchor, before=False)
    else:
        span = timedelta(days=WINDOW_DAYS[window])
        earliest = _neighbour_day(session, start, before=True)
        prev_day = anchor - span if earliest is not None else None
        next_day = anchor + span if latest is not None and anchor < latest else None
        if next_day is not None and latest is not None and next_day > latest:
            next_day = latest
    return TrendingResult(
        window=window,
        day=anchor,
        start=start,
        cards=cards,
        total=total,
        page=page,
        per_page=per_page,
        ranked=has_scores(session, window),
        topic=chip(topic) if topic else None,
        prev_day=prev_day,
        next_day=up_to_today(next_day, today),
        latest_day=latest,
        chips=window_chips(session, start, anchor) if with_chips else [],
    )
