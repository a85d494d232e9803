"""Operator edits of topics: rename, merge, hide, pin, and add a topic by name and keywords.

Each edit is stored on the topic row in a column the rebuild respects (label_locked, hidden, pinned,
merged_into_id, manual), so it survives every later rebuild. Services: take the session, never commit.
"""

from __future__ import annotations

from datetime import datetime

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.embed.vectors import normalize_rows, stack_blobs, to_bytes
from app.models import Embedding, PaperTopic, Topic
from app.models.statuses import TopicStatus
from app.topics import queries
from app.topics.labeling import free_slug
from app.topics.manual import keyword_members

MAX_LABEL_CHARS = 120
KINDS = ("area", "technique")


class OperatorError(Exception):
    """An edit that cannot be made (unknown topic, duplicate label...); the message says why."""


def _topic(session: Session, topic_id: int) -> Topic:
    topic = queries.get_topic(session, topic_id)
    if topic is None:
        raise OperatorError(f"no topic with id {topic_id}")
    return topic


def resolve_merged(session: Session, topic_id: int) -> Topic:
    """The topic that stands for `topic_id` now (following merges)."""
    topic = _topic(session, topic_id)
    seen = {topic.id}
    while topic.merged_into_id is not None and topic.merged_into_id not in seen:
        seen.add(topic.merged_into_id)
        topic = _topic(session, topic.merged_into_id)
    return topic


def _clean_label(label: str) -> str:
    clean = " ".join(label.split())
    if not clean:
        raise OperatorError("a label cannot be empty")
    if len(clean) > MAX_LABEL_CHARS:
        raise OperatorError(f"a label has at most {MAX_LABEL_CHARS} characters (got {len(clean)})")
    if not any(c.isalnum() for c in clean):
        raise OperatorError(f"label {clean!r} has no letters or digits")
    return clean


def _check_free_label(session: Session, label: str, kind: str, *, except_id: int | None = None) -> None:
    """No live topic of the same kind is called `label` (kinds apart, as the rebuilds keep them)."""
    for other in queries.all_topics(session):
        if other.id == except_id or other.status in {TopicStatus.MERGED, TopicStatus.DORMANT}:
            continue
        if other.kind == kind and other.label.casefold() == label.casefold():
            raise OperatorError(f"topic {other.id} is already called {other.label!r}")


def rename_topic(session: Session, topic_id: int, label: str, *, unlock: bool = False) -> Topic:
    """Give a topic a label the rebuilds keep (the slug, and so every link, stays the same).

    `unlock=True` hands the label back to the rebuilds without changing it.
    """
    topic = _topic(session, topic_id)
    if unlock:
        topic.label_locked = False
        session.flush()
        return topic
    clean = _clean_label(label)
    _check_free_label(session, clean, topic.kind, except_id=topic.id)
    topic.label = clean
    topic.label_locked = True
    session.flush()
    return topic


def merge_topics(session: Session, source_id: int, target_id: int) -> Topic:
    """Fold `source` into `target`: its papers move, it is marked merged, later rebuilds feed target."""
    source = _topic(session, source_id)
    target = resolve_merged(session, target_id)
    if source.status == TopicStatus.MERGED:
        raise OperatorError(f"topic {source.id} was already merged into topic {source.merged_into_id}")
    if target.id == source.id:
        raise OperatorError("a topic cannot be merged into itself")
    moved = {
        pid: score
        for pid, score in session.execute(
            select(PaperTopic.paper_id, PaperTopic.score).where(PaperTopic.topic_id == source.id)
        )
    }
    existing = {
        row.paper_id: row
        for row in session.scalars(select(PaperTopic).where(PaperTopic.topic_id == target.id))
        if row.paper_id in moved
    }
    for pid, score in moved.items():
        if pid in existing:
            existing[pid].score = max(existing[pid].score, score)
        else:
            session.add(PaperTopic(paper_id=pid, topic_id=target.id, score=score))
    session.flush()
    queries.delete_topic_assignments(session, source.id)
    source.status = TopicStatus.MERGED
    source.merged_into_id = target.id
    source.pinned = False
    # Topics merged into the source follow it to the target; so do the subtopics of a merged area.
    for other in queries.all_topics(session):
        if other.merged_into_id == source.id:
            other.merged_into_id = target.id
        if other.parent_id == source.id and other.id != target.id:
            other.parent_id = target.id
    queries.refresh_sizes(session)
    session.flush()
    return target


def hide_topic(session: Session, topic_id: int, hidden: bool = True) -> Topic:
    """Hide a topic from the site, subscriptions and trending (it is still built and tracked)."""
    topic = _topic(session, topic_id)
    topic.hidden = hidden
    session.flush()
    return topic


def pin_topic(session: Session, topic_id: int, pinned: bool = True) -> Topic:
    """Pin a topic: listed first, and kept alive on its centroid if a rebuild does not find it again."""
    topic = _topic(session, topic_id)
    if pinned and topic.status == TopicStatus.MERGED:
        raise OperatorError(f"topic {topic.id} was merged into topic {topic.merged_into_id}; pin that one")
    topic.pinned = pinned
    if pinned and topic.status == TopicStatus.DORMANT:
        topic.status = TopicStatus.ACTIVE
    session.flush()
    return topic


def add_topic(
    session: Session,
    label: str,
    keywords: list[str],
    *,
    now: datetime,
    kind: str = "technique",
    model_name: str | None = None,
) -> Topic:
    """Add a topic defined by a name and keywords; papers whose title (or abstract, twice) names one join.

    Its members are recomputed from the keywords at every rebuild and for every new paper.
    """
    clean = _clean_label(label)
    words = [k for k in (" ".join(k.split()) for k in keywords) if k.strip("*")]
    if not words:
        raise OperatorError("a topic needs at least one keyword (--keywords a,b,c)")
    if kind not in KINDS:
        raise OperatorError(f"kind must be one of {', '.join(KINDS)} (got {kind!r})")
    _check_free_label(session, clean, kind)
    slug = free_slug(clean, queries.used_slugs(session))
    topic = Topic(
        slug=slug,
        label=clean,
        kind=kind,
        status=TopicStatus.ACTIVE,
        keywords=words,
        manual=True,
        label_locked=True,
        first_seen=now,
        last_built=now,
        created_at=now,
    )
    session.add(topic)
    session.flush()
    ids, titles, abstracts = queries.all_paper_texts(session)
    members = [(ids[row], score) for row, score in keyword_members(titles, abstracts, words)]
    queries.add_assignments(session, [(pid, topic.id, score) for pid, score in members])
    if model_name and members:
        topic.centroid = _centroid(session, model_name, [pid for pid, _ in members])
    topic.size = len(members)
    session.flush()
    return topic


def _centroid(session: Session, model_name: str, paper_ids: list[int]) -> bytes | None:
    blobs: list[bytes] = []
    dim = 0
    for part in queries.chunks(paper_ids):
        for vector, d in session.execute(
            select(Embedding.vector, Embedding.dim).where(
                Embedding.model == model_name, Embedding.paper_id.in_(part)
            )
        ):
            blobs.append(vector)
            dim = int(d)
    if not blobs:
        return None
    mean = stack_blobs(blobs, dim).mean(axis=0, keepdims=True)
    return to_bytes(normalize_rows(np.asarray(mean))[0])
