"""Topic rebuilds on both databases: identity across rebuilds, emerging/dormant, dry runs, assignment."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import Embedding, PaperTopic, PaperTopicState, Topic, TopicBuild
from app.topics.service import (
    TopicsError,
    assign_new_papers,
    build_topics,
    needs_rebuild,
)
from tests.topics.synthetic import MODEL, insert_corpus, make_corpus, names_area

NOW = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


def build(session: Session, *, dry_run: bool = False, now: datetime = NOW, n_areas: int = 3):
    return build_topics(
        session, model_name=MODEL, seed=0, n_areas=n_areas, max_techniques=None, now=now, dry_run=dry_run
    )


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def topics_by_label(session: Session) -> dict[str, Topic]:
    return {t.label: t for t in session.scalars(select(Topic))}


def test_build_writes_named_topics_with_members(db: Session) -> None:
    papers = make_corpus(per_area=60)
    ids = insert_corpus(db, papers)
    report = build(db)
    topics = list(db.scalars(select(Topic).order_by(Topic.id)))
    areas = [t for t in topics if t.kind == "area"]
    techniques = [t for t in topics if t.kind == "technique"]
    assert len(areas) == 3 and report.areas == 3
    area_of = {pid: p.area for pid, p in zip(ids, papers, strict=True)}
    for t in areas:  # each area is one synthetic area, named in that area's words
        found = Counter(
            area_of[pid] for pid in db.scalars(select(PaperTopic.paper_id).where(PaperTopic.topic_id == t.id))
        )
        assert len(found) == 1 and names_area(t.label, next(iter(found))), (t.label, found)
    assert techniques and all(count_members(db, t.id) > 0 for t in techniques)
    scores = list(db.scalars(select(PaperTopic.score)))
    assert all(0.0 <= s <= 1.0 for s in scores)
    # First build: nothing is "emerging" (there was nothing before), every slug unique, sizes right.
    assert {t.status for t in topics} == {"active"}
    assert len({t.slug for t in topics}) == len(topics)
    # Labels are unique within a kind: a subtopic of one area and a technique across areas may share
    # the name their papers use (topic pages say the kind and, for a subtopic, its area).
    assert len({(t.kind, t.label.casefold()) for t in topics}) == len(topics)
    for t in topics:
        assert t.size == count_members(db, t.id) > 0
        assert 1 <= len(t.label.split()) <= 4
        assert t.centroid is not None and t.keywords
    assert count(db, PaperTopicState) == len(ids)
    assert report.papers == len(ids) and report.without_area == 0
    assert report.build_id == db.scalar(select(TopicBuild.id))
    assert "180 papers" in report.summary()


def count_members(session: Session, topic_id: int) -> int:
    return int(
        session.scalar(select(func.count()).select_from(PaperTopic).where(PaperTopic.topic_id == topic_id))
        or 0
    )


def test_rebuild_on_the_same_data_keeps_every_id_slug_and_label(db: Session) -> None:
    insert_corpus(db, make_corpus(per_area=60))
    build(db)
    before = {t.id: (t.slug, t.label, t.kind) for t in db.scalars(select(Topic))}
    members_before = set(db.execute(select(PaperTopic.paper_id, PaperTopic.topic_id)).all())
    report = build(db, now=NOW + timedelta(days=7))
    after = {t.id: (t.slug, t.label, t.kind) for t in db.scalars(select(Topic))}
    assert after == before
    assert report.kept_share == 1.0 and report.emerging == [] and report.dormant == []
    assert set(db.execute(select(PaperTopic.paper_id, PaperTopic.topic_id)).all()) == members_before
    assert count(db, TopicBuild) == 2


def test_dry_run_writes_nothing(db: Session) -> None:
    insert_corpus(db, make_corpus(per_area=60))
    report = build(db, dry_run=True)
    assert report.dry_run and report.topics >= 4 and report.assignments > 0
    assert (
        count(db, Topic) == count(db, PaperTopic) == count(db, TopicBuild) == count(db, PaperTopicState) == 0
    )
    build(db)
    snapshot = {t.id: (t.label, t.status, t.size) for t in db.scalars(select(Topic))}
    rows = count(db, PaperTopic)
    insert_corpus(db, make_corpus(per_area=20, areas=("speech",), prefix="more", seed=5))
    build(db, dry_run=True)
    assert {t.id: (t.label, t.status, t.size) for t in db.scalars(select(Topic))} == snapshot
    assert count(db, PaperTopic) == rows and count(db, TopicBuild) == 1


def test_new_area_is_emerging_and_a_vanished_one_goes_dormant(db: Session) -> None:
    insert_corpus(db, make_corpus(per_area=60, areas=("speech", "medical")))
    build(db, n_areas=2)
    first = {t.id: t.label for t in db.scalars(select(Topic))}
    insert_corpus(db, make_corpus(per_area=60, areas=("driving",), prefix="new", seed=3))
    report = build(db, now=NOW + timedelta(days=7), n_areas=3)
    topics = {t.id: t for t in db.scalars(select(Topic))}
    assert all(tid in topics and topics[tid].label == label for tid, label in first.items())
    new = [t for t in topics.values() if t.id not in first]
    assert any(t.kind == "area" and t.status == "emerging" and names_area(t.label, "driving") for t in new)
    assert report.emerging and report.matched >= 2
    first_areas = [tid for tid in first if topics[tid].kind == "area"]
    assert len(first_areas) == 2 and all(topics[tid].status == "active" for tid in first_areas)

    # The speech papers lose their vectors: the speech topics go dormant; ids and slugs stay reserved.
    speech = [t for t in topics.values() if t.kind == "area" and names_area(t.label, "speech")]
    assert speech
    db.execute(delete(Embedding).where(Embedding.paper_id.in_(select_speech_ids(db))))
    report = build(db, now=NOW + timedelta(days=14), n_areas=2)
    for t in speech:
        db.refresh(t)
        assert t.status == "dormant" and t.size == 0
    assert report.dormant
    slugs = [t.slug for t in db.scalars(select(Topic))]
    assert len(slugs) == len(set(slugs))


def select_speech_ids(session: Session) -> list[int]:
    from app.models import Paper

    return list(session.scalars(select(Paper.id).where(Paper.source_id.like("%-speech-%"))))


def test_build_without_vectors_is_a_clear_error(db: Session) -> None:
    with pytest.raises(TopicsError, match="papertrend embed"):
        build(db)


def test_new_papers_are_assigned_between_rebuilds(db: Session) -> None:
    insert_corpus(db, make_corpus(per_area=60))
    assert needs_rebuild(db, now=NOW, model_name=MODEL)
    build(db)
    assert not needs_rebuild(db, now=NOW + timedelta(days=1), model_name=MODEL)
    assert needs_rebuild(db, now=NOW + timedelta(days=8), model_name=MODEL)
    topics = {t.id: t for t in db.scalars(select(Topic))}
    late = make_corpus(per_area=8, prefix="late", seed=11, technique_share=0.5)
    ids = insert_corpus(db, late)
    report = assign_new_papers(db, model_name=MODEL, now=NOW + timedelta(days=1))
    assert report.papers == len(ids) and report.without_topic == 0
    for pid, paper in zip(ids, late, strict=True):
        got = {
            topics[t].kind: topics[t]
            for t in db.scalars(select(PaperTopic.topic_id).where(PaperTopic.paper_id == pid))
        }
        assert names_area(got["area"].label, paper.area), (paper.title, got["area"].label)
    states = set(db.scalars(select(PaperTopicState.method).where(PaperTopicState.paper_id.in_(ids))))
    assert states == {"assign"}
    assert db.scalar(select(Topic.size).where(Topic.id == next(iter(topics)))) == count_members(
        db, next(iter(topics))
    )
    # Nothing new: a second run places nothing and changes nothing.
    rows = count(db, PaperTopic)
    again = assign_new_papers(db, model_name=MODEL, now=NOW + timedelta(days=1))
    assert again.papers == 0 and count(db, PaperTopic) == rows
    # Many assigned papers since the last build call for a rebuild.
    insert_corpus(db, make_corpus(per_area=20, prefix="later", seed=12))
    assign_new_papers(db, model_name=MODEL, now=NOW + timedelta(days=2))
    assert needs_rebuild(db, now=NOW + timedelta(days=2), model_name=MODEL)


def test_assign_before_any_build_says_so(db: Session) -> None:
    insert_corpus(db, make_corpus(per_area=5))
    report = assign_new_papers(db, model_name=MODEL, now=NOW)
    assert report.papers == 0 and "topics build" in report.summary()
