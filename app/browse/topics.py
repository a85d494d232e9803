"""Topic read models: the list with sparklines, the trending strip, and one topic's page."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta

import numpy as np
from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session, aliased

from app.browse.cards import cards_for, chip, visible_topic
from app.browse.inputs import identifier
from app.browse.trending import in_days, latest_day
from app.browse.types import PaperCard, TopicChip, TopicDetail, TopicMomentum, WeekPoint
from app.models import Paper, PaperScore, PaperTopic, Topic, TopicDailyCount
from app.models.statuses import TopicStatus

SORTS = ("momentum", "size", "name", "new")


def series_end(session: Session) -> date | None:
    """Last day of the weekly series: the latest daily count, else the latest paper."""
    day: date | None = session.scalar(select(func.max(TopicDailyCount.day)))
    return day or latest_day(session)


def weekly_counts(
    session: Session, topic_ids: Iterable[int], *, end: date, weeks: int
) -> dict[int, list[int]]:
    """Papers per topic in each of `weeks` weeks ending on `end` (oldest first).

    Reads TopicDailyCount; when the trends job has not filled it yet, counts assignments
    directly so a fresh install still draws its charts.
    """
    ids = list(set(topic_ids))
    out: dict[int, list[int]] = {tid: [0] * weeks for tid in ids}
    if not ids or weeks <= 0:
        return out
    start = end - timedelta(days=7 * weeks - 1)

    def bucket(day: date) -> int | None:
        offset = (day - start).days
        return offset // 7 if 0 <= offset < 7 * weeks else None

    if session.scalar(select(func.count()).select_from(TopicDailyCount)):
        rows = session.execute(
            select(TopicDailyCount.topic_id, TopicDailyCount.day, TopicDailyCount.count).where(
                TopicDailyCount.topic_id.in_(ids), TopicDailyCount.day >= start, TopicDailyCount.day <= end
            )
        ).all()
        for tid, day, count in rows:
            b = bucket(day)
            if b is not None:
                out[tid][b] += int(count)
        return out
    for tid, announced, published in session.execute(
        select(PaperTopic.topic_id, Paper.announced_date, Paper.published_at)
        .join(Paper, Paper.id == PaperTopic.paper_id)
        .where(PaperTopic.topic_id.in_(ids), in_days(start, end))
    ).all():
        paper_day: date | None = announced or (published.date() if published else None)
        b = bucket(paper_day) if paper_day else None
        if b is not None:
            out[tid][b] += 1
    return out


def trending_topics(session: Session, *, limit: int = 8) -> list[TopicChip]:
    """The strip on the front page: pinned topics, then the fastest-moving live ones."""
    rows = session.scalars(
        select(Topic)
        .where(visible_topic(), Topic.status != TopicStatus.DORMANT)
        .order_by(Topic.pinned.desc(), Topic.momentum.desc(), Topic.size.desc(), Topic.id)
        .limit(limit)
    ).all()
    return [chip(t) for t in rows]


def topic_list(
    session: Session, *, sort: str = "momentum", kind: str | None = None, weeks: int = 12
) -> list[TopicMomentum]:
    """Every visible topic with its size, momentum and a weekly sparkline series."""
    stmt = select(Topic).where(visible_topic())
    if kind:
        stmt = stmt.where(Topic.kind == kind)
    order = {
        "momentum": (Topic.pinned.desc(), Topic.momentum.desc(), Topic.size.desc()),
        "size": (Topic.size.desc(), Topic.momentum.desc()),
        "name": (func.lower(Topic.label),),
        "new": (Topic.first_seen.desc(),),
    }.get(sort, (Topic.momentum.desc(),))
    topics = session.scalars(stmt.order_by(*order, Topic.id)).all()
    end = series_end(session)
    series = weekly_counts(session, (t.id for t in topics), end=end, weeks=weeks) if end else {}
    return [
        TopicMomentum(
            topic=chip(t),
            size=int(t.size or 0),
            week_count=(series.get(t.id) or [0])[-1],
            weekly=tuple(series.get(t.id) or [0] * weeks),
            keywords=tuple(str(k) for k in (t.keywords or [])),
            pinned=bool(t.pinned),
        )
        for t in topics
    ]


def week_points(counts: list[int], *, end: date, shown: int, baseline_weeks: int) -> list[WeekPoint]:
    """The last `shown` weeks with a trailing-mean baseline over the `baseline_weeks` before each (pure)."""
    first = len(counts) - shown
    points = []
    for i in range(max(first, 0), len(counts)):
        prior = counts[max(0, i - baseline_weeks) : i]
        baseline = sum(prior) / len(prior) if len(prior) >= 2 else None
        week_end = end - timedelta(days=7 * (len(counts) - 1 - i))
        points.append(WeekPoint(week_end - timedelta(days=6), week_end, counts[i], baseline))
    return points


def trim_leading_empty(points: list[WeekPoint], *, keep: int = 8) -> list[WeekPoint]:
    """Drop the empty weeks before a young topic's first paper, keeping at least `keep` weeks (pure)."""
    first = next((i for i, p in enumerate(points) if p.count or p.baseline), len(points))
    start = max(0, min(first - 1, len(points) - keep))
    return points[start:]


def _topic_papers(session: Session, topic_id: int, *, newest: bool, limit: int) -> list[PaperCard]:
    ps = aliased(PaperScore)
    stmt = (
        select(Paper, PaperTopic.score, ps.score, ps.components)
        .join(PaperTopic, and_(PaperTopic.paper_id == Paper.id, PaperTopic.topic_id == topic_id))
        .outerjoin(ps, and_(ps.paper_id == Paper.id, ps.window == "month"))
        .where(Paper.withdrawn.is_(False))
    )
    if newest:
        stmt = stmt.order_by(
            Paper.announced_date.desc().nulls_last(), Paper.published_at.desc().nulls_last(), Paper.id.desc()
        )
    else:
        stmt = stmt.order_by(ps.score.desc().nulls_last(), PaperTopic.score.desc(), Paper.id.desc())
    rows = session.execute(stmt.limit(limit)).all()
    scores = {r[0].id: (float(r[2]), dict(r[3] or {})) for r in rows if r[2] is not None}
    return cards_for(session, [r[0] for r in rows], scores=scores)


def related_topics(session: Session, topic: Topic, *, limit: int = 8) -> list[tuple[TopicChip, int]]:
    """Topics sharing the most papers with this one; centroid neighbours fill up the rest."""
    mine, other = aliased(PaperTopic), aliased(PaperTopic)
    shared = func.count(other.paper_id).label("shared")
    rows = session.execute(
        select(Topic, shared)
        .select_from(mine)
        .join(other, and_(other.paper_id == mine.paper_id, other.topic_id != mine.topic_id))
        .join(Topic, Topic.id == other.topic_id)
        .where(mine.topic_id == topic.id, visible_topic())
        .group_by(Topic.id)
        .order_by(shared.desc(), Topic.id)
        .limit(limit)
    ).all()
    related = [(chip(t), int(n)) for t, n in rows]
    if len(related) < limit and topic.centroid:
        seen = {topic.id} | {c.id for c, _ in related}
        related += [(c, 0) for c in _centroid_neighbours(session, topic, seen, limit - len(related))]
    return related


def _centroid_neighbours(session: Session, topic: Topic, exclude: set[int], limit: int) -> list[TopicChip]:
    me = np.frombuffer(topic.centroid or b"", dtype=np.float32)
    if not me.size or not np.linalg.norm(me):
        return []
    scored = []
    for other in session.scalars(select(Topic).where(visible_topic(), Topic.centroid.is_not(None))).all():
        if other.id in exclude or not other.centroid:
            continue
        vec = np.frombuffer(other.centroid, dtype=np.float32)
        if vec.shape != me.shape or not np.linalg.norm(vec):
            continue
        scored.append((float(me @ vec / (np.linalg.norm(me) * np.linalg.norm(vec))), other))
    scored.sort(key=lambda pair: (-pair[0], pair[1].id))
    return [chip(t) for _, t in scored[:limit]]


def topic_detail(
    session: Session, slug: str, *, weeks: int = 26, baseline_weeks: int = 8, papers: int = 10
) -> TopicDetail | None:
    """Everything the topic page shows; None when there is no visible topic with that slug."""
    topic = session.scalar(select(Topic).where(Topic.slug == identifier(slug)))
    if topic is None or topic.hidden:
        return None
    merged_into = session.get(Topic, topic.merged_into_id) if topic.merged_into_id else None
    end = series_end(session)
    points: list[WeekPoint] = []
    if end is not None:
        counts = weekly_counts(session, [topic.id], end=end, weeks=weeks + baseline_weeks)[topic.id]
        points = trim_leading_empty(week_points(counts, end=end, shown=weeks, baseline_weeks=baseline_weeks))
    size = topic.size or int(
        session.scalar(select(func.count()).select_from(PaperTopic).where(PaperTopic.topic_id == topic.id))
        or 0
    )
    return TopicDetail(
        topic=chip(topic),
        size=int(size),
        keywords=tuple(str(k) for k in (topic.keywords or [])),
        description=topic.description,
        first_seen=topic.first_seen,
        weeks=points,
        top_papers=_topic_papers(session, topic.id, newest=False, limit=papers),
        newest_papers=_topic_papers(session, topic.id, newest=True, limit=papers),
        related=related_topics(session, topic),
        trend=dict(getattr(topic, "trend", None) or {}),
        merged_into=chip(merged_into) if merged_into is not None and not merged_into.hidden else None,
    )


def topic_series(
    session: Session, slug: str, *, weeks: int = 26, baseline_weeks: int = 8
) -> list[WeekPoint] | None:
    """The weekly series of one topic (None: unknown or hidden topic)."""
    topic = session.scalar(select(Topic).where(Topic.slug == identifier(slug)))
    if topic is None or topic.hidden:
        return None
    end = series_end(session)
    if end is None:
        return []
    counts = weekly_counts(session, [topic.id], end=end, weeks=weeks + baseline_weeks)[topic.id]
    return week_points(counts, end=end, shown=weeks, baseline_weeks=baseline_weeks)


def all_topic_chips(session: Session) -> list[TopicChip]:
    """Every visible topic, alphabetical: for filter drop-downs."""
    rows = session.scalars(select(Topic).where(visible_topic()).order_by(func.lower(Topic.label), Topic.id))
    return [chip(t) for t in rows]
