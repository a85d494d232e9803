"""Topic read models: the list with sparklines, the index of areas and their subtopics, the trending
strip, and one topic's page.

Two levels: an area's pages and feed show the papers of the area and of its visible subtopics (a
build gives every paper its area as well as its subtopic; the union also catches a paper placed in
a subtopic alone, by an assignment between builds or an operator merge), so following an area means
following everything under it. A subtopic names its area; techniques cut across and stand apart.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import date, timedelta

import numpy as np
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session, aliased

from app.browse.cards import cards_for, chip, parent_slugs, visible_topic
from app.browse.inputs import identifier
from app.browse.trending import in_days, latest_day, member_topic_ids
from app.browse.types import (
    AreaGroup,
    PaperCard,
    TopicChip,
    TopicDetail,
    TopicMomentum,
    TopicTree,
    WeekPoint,
)
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
    session: Session,
    *,
    sort: str = "momentum",
    kind: str | None = None,
    parent: str | None = None,
    weeks: int = 12,
) -> list[TopicMomentum]:
    """Every visible topic (of a kind, or the subtopics of the area `parent`) with its size, momentum,
    area, trend summary and a weekly sparkline series.

    Raises LookupError when `parent` names no visible topic.
    """
    stmt = select(Topic).where(visible_topic())
    if kind:
        stmt = stmt.where(Topic.kind == kind)
    if parent:
        area = session.scalar(select(Topic).where(Topic.slug == identifier(parent), visible_topic()))
        if area is None:
            raise LookupError(f"no topic {parent!r}")
        stmt = stmt.where(Topic.parent_id == area.id)
    order = {
        "momentum": (Topic.pinned.desc(), Topic.momentum.desc(), Topic.size.desc()),
        "size": (Topic.size.desc(), Topic.momentum.desc()),
        "name": (func.lower(Topic.label),),
        "new": (Topic.first_seen.desc(),),
    }.get(sort, (Topic.momentum.desc(),))
    topics = session.scalars(stmt.order_by(*order, Topic.id)).all()
    return _momenta(session, topics, weeks=weeks)


def _momenta(session: Session, topics: Sequence[Topic], *, weeks: int) -> list[TopicMomentum]:
    end = series_end(session)
    series = weekly_counts(session, (t.id for t in topics), end=end, weeks=weeks) if end else {}
    parent_ids = {t.parent_id for t in topics if t.parent_id is not None}
    parents = (
        {t.id: t for t in session.scalars(select(Topic).where(Topic.id.in_(parent_ids), visible_topic()))}
        if parent_ids
        else {}
    )
    children = subtopic_counts(session, [t.id for t in topics if t.kind == "area"])
    sizes = area_sizes(session, list(children))
    out = []
    for t in topics:
        area = parents.get(t.parent_id or 0)
        out.append(
            TopicMomentum(
                topic=chip(t, parent_slug=area.slug if area is not None else None),
                size=sizes.get(t.id, int(t.size or 0)),
                week_count=(series.get(t.id) or [0])[-1],
                weekly=tuple(series.get(t.id) or [0] * weeks),
                keywords=tuple(str(k) for k in (t.keywords or [])),
                pinned=bool(t.pinned),
                parent=chip(area) if area is not None else None,
                subtopics=children.get(t.id, 0),
                summary=str((t.trend or {}).get("summary") or ""),
            )
        )
    return out


def subtopic_counts(session: Session, area_ids: Sequence[int]) -> dict[int, int]:
    """Visible subtopics of each of these areas."""
    if not area_ids:
        return {}
    rows = session.execute(
        select(Topic.parent_id, func.count())
        .where(Topic.parent_id.in_(list(area_ids)), visible_topic())
        .group_by(Topic.parent_id)
    )
    return {int(pid): int(n) for pid, n in rows if pid is not None}


def area_sizes(session: Session, area_ids: Sequence[int]) -> dict[int, int]:
    """Papers of each area counted with those of its visible subtopics, each paper once (one query)."""
    if not area_ids:
        return {}
    ids = list(area_ids)
    area_of = case((Topic.kind == "area", Topic.id), else_=Topic.parent_id)
    rows = session.execute(
        select(area_of, func.count(func.distinct(PaperTopic.paper_id)))
        .select_from(PaperTopic)
        .join(Topic, Topic.id == PaperTopic.topic_id)
        .where(
            or_(
                Topic.id.in_(ids),
                and_(Topic.kind == "subtopic", Topic.parent_id.in_(ids), visible_topic()),
            )
        )
        .group_by(area_of)
    )
    return {int(a): int(n) for a, n in rows if a is not None}


def topic_tree(session: Session, *, sort: str = "momentum", weeks: int = 12) -> TopicTree:
    """The topic index: each area followed by its subtopics (both in `sort` order), then techniques.

    A subtopic whose area is not visible is listed under `unplaced` rather than dropped; any other
    kind (a manual topic of an unexpected kind) is listed with the techniques.
    """
    items = topic_list(session, sort=sort, weeks=weeks)
    areas = [m for m in items if m.topic.kind == "area"]
    shown = {m.topic.id for m in areas}
    under: dict[int, list[TopicMomentum]] = {m.topic.id: [] for m in areas}
    unplaced: list[TopicMomentum] = []
    others: list[TopicMomentum] = []
    for m in items:
        if m.topic.kind == "subtopic":
            if m.topic.parent_id in shown:
                under[m.topic.parent_id or 0].append(m)
            else:
                unplaced.append(m)
        elif m.topic.kind != "area":
            others.append(m)
    return TopicTree(
        areas=[AreaGroup(area=m, subtopics=under[m.topic.id]) for m in areas],
        techniques=others,
        unplaced=unplaced,
    )


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


def _topic_papers(session: Session, topic_ids: Sequence[int], *, newest: bool, limit: int) -> list[PaperCard]:
    """Papers of these topics (a paper in several of them once, with its best membership score)."""
    ps = aliased(PaperScore)
    members = (
        select(PaperTopic.paper_id.label("paper_id"), func.max(PaperTopic.score).label("score"))
        .where(PaperTopic.topic_id.in_(list(topic_ids)))
        .group_by(PaperTopic.paper_id)
        .subquery()
    )
    stmt = (
        select(Paper, members.c.score, ps.score, ps.components)
        .join(members, members.c.paper_id == Paper.id)
        .outerjoin(ps, and_(ps.paper_id == Paper.id, ps.window == "month"))
        .where(Paper.withdrawn.is_(False))
    )
    if newest:
        stmt = stmt.order_by(
            Paper.announced_date.desc().nulls_last(), Paper.published_at.desc().nulls_last(), Paper.id.desc()
        )
    else:
        stmt = stmt.order_by(ps.score.desc().nulls_last(), members.c.score.desc(), Paper.id.desc())
    rows = session.execute(stmt.limit(limit)).all()
    scores = {r[0].id: (float(r[2]), dict(r[3] or {})) for r in rows if r[2] is not None}
    return cards_for(session, [r[0] for r in rows], scores=scores)


def related_topics(session: Session, topic: Topic, *, limit: int = 8) -> list[tuple[TopicChip, int]]:
    """Topics sharing the most papers with this one; centroid neighbours fill up the rest.

    A subtopic's area and an area's subtopics are not "related": the page shows them as the hierarchy.
    """
    family = {topic.id} | ({topic.parent_id} if topic.parent_id else set())
    if topic.kind == "area":
        family |= set(session.scalars(select(Topic.id).where(Topic.parent_id == topic.id)))
    mine, other = aliased(PaperTopic), aliased(PaperTopic)
    shared = func.count(other.paper_id).label("shared")
    rows = session.execute(
        select(Topic, shared)
        .select_from(mine)
        .join(other, and_(other.paper_id == mine.paper_id, other.topic_id != mine.topic_id))
        .join(Topic, Topic.id == other.topic_id)
        .where(mine.topic_id == topic.id, visible_topic(), Topic.id.not_in(family))
        .group_by(Topic.id)
        .order_by(shared.desc(), Topic.id)
        .limit(limit)
    ).all()
    related = [(chip(t), int(n)) for t, n in rows]
    if len(related) < limit and topic.centroid:
        seen = family | {c.id for c, _ in related}
        related += [(c, 0) for c in _centroid_neighbours(session, topic, seen, limit - len(related))]
    parents = parent_slugs(session, (c.parent_id for c, _ in related))
    return [(replace(c, parent_slug=parents.get(c.parent_id or 0)), n) for c, n in related]


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
    area = session.get(Topic, topic.parent_id) if topic.parent_id else None
    if area is not None and (area.hidden or area.status == TopicStatus.MERGED):
        area = None
    members = member_topic_ids(session, topic)
    subtopics = (
        _momenta(
            session,
            session.scalars(
                select(Topic)
                .where(Topic.parent_id == topic.id, visible_topic())
                .order_by(Topic.size.desc(), Topic.momentum.desc(), Topic.id)
            ).all(),
            weeks=12,
        )
        if topic.kind == "area"
        else []
    )
    end = series_end(session)
    points: list[WeekPoint] = []
    if end is not None:
        counts = weekly_counts(session, [topic.id], end=end, weeks=weeks + baseline_weeks)[topic.id]
        points = trim_leading_empty(week_points(counts, end=end, shown=weeks, baseline_weeks=baseline_weeks))
    size = topic.size or 0
    if len(members) > 1 or not size:  # an area counts the papers of its subtopics once each
        size = int(
            session.scalar(
                select(func.count(func.distinct(PaperTopic.paper_id))).where(PaperTopic.topic_id.in_(members))
            )
            or 0
        )
    return TopicDetail(
        topic=chip(topic, parent_slug=area.slug if area is not None else None),
        size=int(size),
        keywords=tuple(str(k) for k in (topic.keywords or [])),
        description=topic.description,
        first_seen=topic.first_seen,
        weeks=points,
        top_papers=_topic_papers(session, members, newest=False, limit=papers),
        newest_papers=_topic_papers(session, members, newest=True, limit=papers),
        related=related_topics(session, topic),
        trend=dict(getattr(topic, "trend", None) or {}),
        merged_into=chip(merged_into) if merged_into is not None and not merged_into.hidden else None,
        parent=chip(area) if area is not None else None,
        subtopics=subtopics,
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
