"""Database reads and bulk writes of the topics stage: topics, assignments, placement marks, counts, scores.

Every function takes the session; none commits. Bulk writes replace whole sets (delete then insert in
one transaction), so running a stage twice leaves the same rows.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from app.models import (
    Embedding,
    Paper,
    PaperScore,
    PaperTopic,
    PaperTopicState,
    Topic,
    TopicBuild,
    TopicDailyCount,
)
from app.models.topic import PhraseTrend

CHUNK = 1000


def chunks(items: Sequence[Any], size: int = CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _insert_rows(session: Session, model: Any, values: list[dict[str, Any]]) -> None:
    """Insert many rows through the session's connection (one executemany per 5,000 rows).

    A Core insert of the table: the ORM's bulk path (`session.execute(insert(Model), rows)`) costs
    about twice as much per row, which a rebuild pays for every (paper, topic) pair. Pending ORM
    changes are flushed first, so the rows land in the same order as before.
    """
    session.flush()
    connection = session.connection()
    statement = insert(model.__table__)
    for part in chunks(values, 5000):
        connection.execute(statement, list(part))


# Topics -----------------------------------------------------------------------------------------


def all_topics(session: Session) -> list[Topic]:
    return list(session.scalars(select(Topic).order_by(Topic.id)))


def get_topic(session: Session, topic_id: int) -> Topic | None:
    return session.get(Topic, topic_id)


def used_slugs(session: Session) -> set[str]:
    """Every slug ever given, dormant and merged topics included: slugs are never reused."""
    return set(session.scalars(select(Topic.slug)))


def topic_members(session: Session, topic_ids: Iterable[int]) -> dict[int, set[int]]:
    ids = list(topic_ids)
    out: dict[int, set[int]] = {tid: set() for tid in ids}
    for part in chunks(ids):
        for tid, pid in session.execute(
            select(PaperTopic.topic_id, PaperTopic.paper_id).where(PaperTopic.topic_id.in_(part))
        ):
            out[tid].add(pid)
    return out


def topic_sizes(session: Session) -> dict[int, int]:
    rows = session.execute(select(PaperTopic.topic_id, func.count()).group_by(PaperTopic.topic_id))
    return {tid: int(n) for tid, n in rows}


def refresh_sizes(session: Session) -> None:
    """Topic.size from the assignments (topics without any get 0)."""
    sizes = topic_sizes(session)
    for topic in all_topics(session):
        topic.size = sizes.get(topic.id, 0)


def last_build(session: Session) -> TopicBuild | None:
    return session.scalars(select(TopicBuild).order_by(TopicBuild.id.desc()).limit(1)).first()


# Papers and vectors -----------------------------------------------------------------------------


def paper_texts(session: Session, paper_ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    out: dict[int, tuple[str, str]] = {}
    for part in chunks(list(paper_ids)):
        for pid, title, abstract in session.execute(
            select(Paper.id, Paper.title, Paper.abstract).where(Paper.id.in_(part))
        ):
            out[pid] = (title or "", abstract or "")
    return out


def all_paper_texts(session: Session) -> tuple[list[int], list[str], list[str]]:
    ids: list[int] = []
    titles: list[str] = []
    abstracts: list[str] = []
    for pid, title, abstract in session.execute(
        select(Paper.id, Paper.title, Paper.abstract).where(Paper.withdrawn.is_(False)).order_by(Paper.id)
    ):
        ids.append(pid)
        titles.append(title or "")
        abstracts.append(abstract or "")
    return ids, titles, abstracts


def unplaced_paper_ids(session: Session, model_name: str) -> list[int]:
    """Papers with a vector of `model_name` that no rebuild or assignment has placed yet."""
    placed = select(PaperTopicState.paper_id)
    return list(
        session.scalars(
            select(Embedding.paper_id)
            .join(Paper, Paper.id == Embedding.paper_id)
            .where(
                Embedding.model == model_name, Paper.withdrawn.is_(False), Embedding.paper_id.not_in(placed)
            )
            .order_by(Embedding.paper_id)
        )
    )


def count_embedded(session: Session, model_name: str) -> int:
    return int(
        session.scalar(select(func.count()).select_from(Embedding).where(Embedding.model == model_name)) or 0
    )


def count_assigned_since_build(session: Session) -> int:
    """Papers placed by assignment since the last rebuild (a rebuild re-marks every paper "build")."""
    query = select(func.count()).select_from(PaperTopicState).where(PaperTopicState.method == "assign")
    return int(session.scalar(query) or 0)


@dataclass(frozen=True)
class PaperFacts:
    paper_id: int
    day: date | None
    upvotes: int | None
    has_code: bool
    title: str


def paper_facts(session: Session) -> list[PaperFacts]:
    """Day (announcement, else publication), upvotes, code link and title of every paper that is not
    withdrawn."""
    out = []
    for pid, announced, published, upvotes, code_url, title in session.execute(
        select(
            Paper.id, Paper.announced_date, Paper.published_at, Paper.upvotes, Paper.code_url, Paper.title
        ).where(Paper.withdrawn.is_(False))
    ):
        day = announced or (published.date() if published else None)
        out.append(PaperFacts(pid, day, upvotes, bool(code_url), title or ""))
    return out


def assignments(session: Session) -> list[tuple[int, int, float]]:
    """Every (paper id, topic id, score)."""
    return [
        (p, t, float(s))
        for p, t, s in session.execute(select(PaperTopic.paper_id, PaperTopic.topic_id, PaperTopic.score))
    ]


# Bulk writes ------------------------------------------------------------------------------------


def replace_all_assignments(session: Session, rows: Iterable[tuple[int, int, float]]) -> int:
    """Drop every paper-topic row and write `rows` (paper id, topic id, score)."""
    session.execute(delete(PaperTopic))
    return add_assignments(session, rows)


def add_assignments(session: Session, rows: Iterable[tuple[int, int, float]]) -> int:
    values = [(int(p), int(t), float(s)) for p, t, s in rows]
    session.flush()
    connection = session.connection()
    # A rebuild writes every (paper, topic) pair: about 3 per paper, a million rows at 250k papers. The
    # three numbers need no conversion, so they go to the driver as they are (a third of the time of
    # a Core insert, which converts each row's parameters one by one).
    mark = {"qmark": "?", "format": "%s", "pyformat": "%s"}.get(connection.dialect.paramstyle)
    if mark is None:
        _insert_rows(session, PaperTopic, [{"paper_id": p, "topic_id": t, "score": s} for p, t, s in values])
        return len(values)
    table = PaperTopic.__tablename__
    sql = f"INSERT INTO {table} (paper_id, topic_id, score) VALUES ({mark}, {mark}, {mark})"
    for part in chunks(values, 5000):
        connection.exec_driver_sql(sql, list(part))
    return len(values)


def delete_topic_assignments(session: Session, topic_id: int) -> None:
    session.execute(delete(PaperTopic).where(PaperTopic.topic_id == topic_id))


def delete_assignments_of_papers(session: Session, paper_ids: Sequence[int]) -> None:
    for part in chunks(list(paper_ids)):
        session.execute(delete(PaperTopic).where(PaperTopic.paper_id.in_(part)))


def mark_placed(
    session: Session,
    paper_ids: Sequence[int],
    *,
    model: str,
    method: str,
    build_id: int | None,
    now: datetime,
    replace_all: bool = False,
) -> None:
    """Record that these papers were placed (a rebuild replaces every mark)."""
    if replace_all:
        session.execute(delete(PaperTopicState))
    else:
        for part in chunks(list(paper_ids)):
            session.execute(delete(PaperTopicState).where(PaperTopicState.paper_id.in_(part)))
    values = [
        {"paper_id": pid, "model": model, "method": method, "build_id": build_id, "assigned_at": now}
        for pid in paper_ids
    ]
    _insert_rows(session, PaperTopicState, values)


def replace_daily_counts(session: Session, rows: Iterable[tuple[int, date, int, float]]) -> int:
    session.execute(delete(TopicDailyCount))
    values = [{"topic_id": t, "day": d, "count": c, "share": s} for t, d, c, s in rows]
    _insert_rows(session, TopicDailyCount, values)
    return len(values)


def replace_paper_scores(
    session: Session, window: str, rows: Iterable[tuple[int, float, dict[str, Any]]], *, now: datetime
) -> int:
    session.execute(delete(PaperScore).where(PaperScore.window == window))
    values = [
        {"paper_id": p, "window": window, "score": s, "components": c, "computed_at": now} for p, s, c in rows
    ]
    _insert_rows(session, PaperScore, values)
    return len(values)


def replace_phrase_trends(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """Drop every stored moving phrase and write `rows` (PhraseTrend columns)."""
    session.execute(delete(PhraseTrend))
    _insert_rows(session, PhraseTrend, list(rows))
    return len(rows)


def stored_phrase_trends(session: Session, *, limit: int | None = None) -> list[PhraseTrend]:
    """The moving phrases of the last trends run, in listing order."""
    return list(session.scalars(select(PhraseTrend).order_by(PhraseTrend.position).limit(limit)))


# Export -----------------------------------------------------------------------------------------


def iter_paper_topics(
    session: Session, batch: int = 2000
) -> Iterator[tuple[Paper, list[tuple[Topic, float]]]]:
    """Every paper (by id) with its topics, best score first; streams in batches of `batch` papers."""
    topics = {t.id: t for t in all_topics(session)}
    last_id = 0
    while True:
        papers = list(
            session.scalars(select(Paper).where(Paper.id > last_id).order_by(Paper.id).limit(batch))
        )
        if not papers:
            return
        ids = [p.id for p in papers]
        by_paper: dict[int, list[tuple[Topic, float]]] = defaultdict(list)
        for pid, tid, score in session.execute(
            select(PaperTopic.paper_id, PaperTopic.topic_id, PaperTopic.score).where(
                PaperTopic.paper_id.in_(ids)
            )
        ):
            by_paper[pid].append((topics[tid], float(score)))
        for paper in papers:
            yield paper, sorted(by_paper.get(paper.id, []), key=lambda ts: (-ts[1], ts[0].id))
        last_id = ids[-1]
        for paper in papers:  # keep memory flat on a large export
            session.expunge(paper)
