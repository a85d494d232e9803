"""Operator edits (rename, merge, hide, pin, add) and their survival across rebuilds, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import PaperTopic, Topic
from app.topics.manual import keyword_members, parse_keywords
from app.topics.service import (
    OperatorError,
    add_topic,
    build_topics,
    hide_topic,
    merge_topics,
    pin_topic,
    rename_topic,
)
from tests.topics.synthetic import MODEL, insert_corpus, make_corpus, names_area

NOW = datetime(2026, 7, 1, 6, 0, tzinfo=UTC)


def rebuild(session: Session, days: int = 0, n_areas: int = 3) -> None:
    build_topics(
        session,
        model_name=MODEL,
        seed=0,
        n_areas=n_areas,
        max_techniques=None,
        now=NOW + timedelta(days=days),
    )


def members(session: Session, topic_id: int) -> set[int]:
    return set(session.scalars(select(PaperTopic.paper_id).where(PaperTopic.topic_id == topic_id)))


def area(session: Session, name: str) -> Topic:
    """The area topic of one synthetic area (found by the words of its label)."""
    areas = session.scalars(select(Topic).where(Topic.kind == "area"))
    return next(t for t in areas if names_area(t.label, name))


@pytest.fixture
def built(db: Session) -> Session:
    insert_corpus(db, make_corpus(per_area=60))
    rebuild(db)
    return db


def test_rename_survives_rebuilds_and_keeps_the_slug(built: Session) -> None:
    topic = area(built, "driving")
    slug = topic.slug
    rename_topic(built, topic.id, "  Self-Driving   Cars ")
    rebuild(built, 7)
    built.refresh(topic)
    assert (topic.label, topic.slug, topic.label_locked) == ("Self-Driving Cars", slug, True)
    rename_topic(built, topic.id, "", unlock=True)
    assert not topic.label_locked and topic.label == "Self-Driving Cars"


def test_rename_refuses_bad_or_taken_labels(built: Session) -> None:
    a, b = list(built.scalars(select(Topic).where(Topic.kind == "area").order_by(Topic.id)))[:2]
    with pytest.raises(OperatorError, match="already called"):
        rename_topic(built, a.id, b.label.upper())
    # Kinds apart, as the rebuilds keep them: a technique may carry an area's name.
    technique = built.scalars(select(Topic).where(Topic.kind == "technique")).first()
    assert technique is not None
    assert rename_topic(built, technique.id, b.label).label == b.label
    with pytest.raises(OperatorError, match="empty"):
        rename_topic(built, a.id, "   ")
    with pytest.raises(OperatorError, match="no topic with id"):
        rename_topic(built, 999_999, "Anything")
    with pytest.raises(OperatorError, match="letters or digits"):
        rename_topic(built, a.id, "!!!")


def test_merge_moves_papers_and_survives_rebuilds(built: Session) -> None:
    src, dst = area(built, "speech"), area(built, "driving")
    union = members(built, src.id) | members(built, dst.id)
    merge_topics(built, src.id, dst.id)
    assert members(built, src.id) == set() and members(built, dst.id) == union
    assert (src.status, src.merged_into_id, src.size, dst.size) == ("merged", dst.id, 0, len(union))
    rebuild(built, 7)
    built.refresh(src)
    built.refresh(dst)
    assert src.status == "merged" and members(built, src.id) == set()
    assert members(built, dst.id) >= union  # the rebuild still finds the speech cluster; it feeds dst
    with pytest.raises(OperatorError, match="already merged"):
        merge_topics(built, src.id, dst.id)
    with pytest.raises(OperatorError, match="itself"):
        merge_topics(built, dst.id, src.id)  # src resolves to dst


def test_hide_and_pin_survive_rebuilds(built: Session) -> None:
    a = area(built, "driving")
    b = area(built, "medical")
    hide_topic(built, a.id)
    pin_topic(built, b.id)
    rebuild(built, 7)
    built.refresh(a)
    built.refresh(b)
    assert a.hidden and b.pinned and a.status == b.status == "active"
    hide_topic(built, a.id, hidden=False)
    pin_topic(built, b.id, pinned=False)
    assert not a.hidden and not b.pinned


def test_a_pinned_topic_outlives_its_cluster(db: Session) -> None:
    insert_corpus(db, make_corpus(per_area=60))
    rebuild(db)
    driving = area(db, "driving")
    pin_topic(db, driving.id)
    # Two areas asked for: the driving cluster is not rebuilt on its own, yet the pinned topic stays.
    rebuild(db, 7, n_areas=2)
    db.refresh(driving)
    assert driving.status == "active" and driving.size > 0


def test_added_topic_takes_papers_by_keyword_and_keeps_them(built: Session) -> None:
    topic = add_topic(built, "Lidar Perception", ["lidar", "point cloud*"], now=NOW, model_name=MODEL)
    assert (
        topic.manual and topic.label_locked and topic.kind == "technique" and topic.slug == "lidar-perception"
    )
    first = members(built, topic.id)
    assert first and topic.size == len(first) and topic.centroid is not None
    rebuild(built, 7)
    built.refresh(topic)
    assert topic.status == "active" and members(built, topic.id) == first
    with pytest.raises(OperatorError, match="already called"):
        add_topic(built, "lidar perception", ["x"], now=NOW)
    with pytest.raises(OperatorError, match="keyword"):
        add_topic(built, "Nothing", [" ", "*"], now=NOW)
    with pytest.raises(OperatorError, match="kind"):
        add_topic(built, "Other", ["x"], now=NOW, kind="field")


def test_keyword_matching_rules() -> None:
    titles = ["Sparse Autoencoders at scale", "A note", "Quantized LLMs", "Rage against the machine"]
    abstracts = ["", "We use a sparse autoencoder. Sparse autoencoders help.", "", "RAG"]
    assert keyword_members(titles, abstracts, ["sparse autoencoder"]) == [(0, 1.0), (1, pytest.approx(0.6))]
    assert keyword_members(titles, abstracts, ["quantiz*"]) == [(2, 1.0)]
    assert keyword_members(titles, abstracts, ["rag"]) == []  # one abstract mention; "Rage" is another word
    assert keyword_members(titles, abstracts, ["  "]) == []
    assert parse_keywords(" a, B ,b,, c  d ") == ["a", "B", "c d"]


def test_new_papers_join_an_added_topic_by_keyword(built: Session) -> None:
    from app.topics.service import assign_new_papers

    topic = add_topic(built, "Lidar Perception", ["lidar"], now=NOW, model_name=MODEL)
    before = members(built, topic.id)
    late = make_corpus(per_area=6, areas=("driving",), prefix="late", seed=21)
    for paper in late[:3]:
        paper.title = f"Lidar odometry for {paper.title.lower()}"
    ids = insert_corpus(built, late)
    assign_new_papers(built, model_name=MODEL, now=NOW + timedelta(days=1))
    after = members(built, topic.id)
    assert set(ids[:3]) <= after and after - before <= set(ids)
    built.refresh(topic)
    assert topic.size == len(after)


def live_of_kind(session: Session, kind: str) -> list[Topic]:
    return [
        t
        for t in session.scalars(select(Topic).where(Topic.kind == kind).order_by(Topic.id))
        if t.status in ("active", "emerging")
    ]


def test_every_subtopic_has_a_live_parent_area_across_rebuilds(built: Session) -> None:
    for days in (0, 1):
        if days:
            rebuild(built, days)
        subtopics = live_of_kind(built, "subtopic")
        assert subtopics
        areas = {t.id for t in live_of_kind(built, "area")}
        for sub in subtopics:
            assert sub.parent_id in areas, sub.label
        # Each paper has one area and one subtopic.
        for kind in ("area", "subtopic"):
            ids = {t.id for t in live_of_kind(built, kind)}
            held = [p for p, t in built.execute(select(PaperTopic.paper_id, PaperTopic.topic_id)) if t in ids]
            assert len(held) == len(set(held)), kind


def test_subtopic_edits_survive_rebuilds(built: Session) -> None:
    subs = live_of_kind(built, "subtopic")
    assert len(subs) >= 3
    renamed, hidden, pinned = subs[0], subs[1], subs[2]
    rename_topic(built, renamed.id, "Curated Subject Name")
    hide_topic(built, hidden.id)
    pin_topic(built, pinned.id)
    ids_before = {t.id for t in subs}
    rebuild(built, 1)
    rebuild(built, 2)
    built.expire_all()
    assert built.get(Topic, renamed.id).label == "Curated Subject Name"
    assert built.get(Topic, hidden.id).hidden
    assert built.get(Topic, pinned.id).pinned and built.get(Topic, pinned.id).status in ("active", "emerging")
    ids_after = {t.id for t in live_of_kind(built, "subtopic")}
    assert len(ids_before & ids_after) >= 0.95 * len(ids_before)


def test_merging_an_area_moves_its_subtopics_and_survives_rebuilds(built: Session) -> None:
    source, target = live_of_kind(built, "area")[:2]
    children = [t.id for t in live_of_kind(built, "subtopic") if t.parent_id == source.id]
    assert children
    merge_topics(built, source.id, target.id)
    for child in children:
        assert built.get(Topic, child).parent_id == target.id
    rebuild(built, 1)
    built.expire_all()
    assert built.get(Topic, source.id).status == "merged"
    areas = {t.id for t in live_of_kind(built, "area")}
    assert source.id not in areas
    for sub in live_of_kind(built, "subtopic"):
        assert sub.parent_id in areas

    # Merging one subtopic into another feeds the target on later rebuilds.
    first, second = live_of_kind(built, "subtopic")[:2]
    merge_topics(built, first.id, second.id)
    rebuild(built, 2)
    built.expire_all()
    assert built.get(Topic, first.id).status == "merged"
    assert built.get(Topic, second.id).status in ("active", "emerging")
