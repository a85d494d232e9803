"""Profile preferences on both databases: import columns, named interests, the learned reset, and
what the profile page shows (learned words, followed names and the papers they matched)."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.digest.learned import learned_view
from app.models import Feedback, Subscriber, SubscriberInterest
from app.subscribers import service
from app.subscribers.validation import (
    InvalidInput,
    NamedInterestInput,
    parse_authors,
    parse_named_interests,
)
from tests.digest.digest_support import add_paper, add_subscriber

NOW = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
DAY = date(2026, 5, 4)


def test_apply_profile_sets_the_given_columns_and_keeps_the_absent_ones(db: Session) -> None:
    sub = add_subscriber(db, "ada@example.org", keywords=["old"], interest="graph learning")
    service.apply_profile(
        db, sub, keywords="GNN; message passing", interest=None, authors="Ada Lovelace\nAlan Turing",
        exclude="survey", now=NOW,
    )  # fmt: skip
    assert sub.keywords == ["GNN", "message passing"] and sub.interest_text == "graph learning"
    assert sub.authors == ["Ada Lovelace", "Alan Turing"] and sub.exclude_keywords == ["survey"]
    assert sub.interest_vector is not None  # unchanged text keeps its vector
    service.apply_profile(db, sub, keywords=None, interest="speech", authors=None, exclude=None, now=NOW)
    assert (
        sub.interest_text == "speech"
        and sub.interest_vector is None
        and sub.keywords == ["GNN", "message passing"]
    )


def test_apply_profile_refuses_bad_input_in_one_line_and_changes_nothing(db: Session) -> None:
    sub = add_subscriber(db, "ada@example.org", keywords=["kept"])
    with pytest.raises(InvalidInput) as refused:
        service.apply_profile(
            db, sub, keywords="fine", interest=None, authors="x" * 200, exclude=None, now=NOW
        )
    assert refused.value.field == "authors" and "\n" not in refused.value.message
    assert sub.keywords == ["kept"]


def test_named_interests_are_parsed_saved_and_keep_unchanged_vectors(db: Session) -> None:
    parsed = parse_named_interests(["Side", "", ""], ["sign language", "", ""], ["", "", ""])
    assert parsed == [NamedInterestInput("Side", ["sign language"], None)]
    with pytest.raises(InvalidInput):
        parse_named_interests([""], ["orphan keywords"], [""])
    with pytest.raises(InvalidInput):
        parse_named_interests(["A", "a"], ["x", "y"], ["", ""])
    sub = add_subscriber(db, "ada@example.org")
    service.set_named_interests(db, sub, [NamedInterestInput("Side", [], "sign language recognition")])
    (row,) = db.scalars(select(SubscriberInterest)).all()
    row.interest_vector, row.interest_model = b"\x00" * 8, "m"
    db.flush()
    service.set_named_interests(
        db,
        sub,
        [
            NamedInterestInput("Side", ["asl"], "sign language recognition"),
            NamedInterestInput("B", ["b"], None),
        ],
    )
    rows = db.scalars(select(SubscriberInterest).order_by(SubscriberInterest.position)).all()
    assert [(r.name, r.keywords, r.interest_vector) for r in rows] == [
        ("Side", ["asl"], b"\x00" * 8),
        ("B", ["b"], None),
    ]
    prefs = service.current_preferences(db, sub)
    assert [i.name for i in prefs.interests] == ["Side", "B"]
    assert parse_authors("Ada Lovelace; ada lovelace, Alan Turing") == ["Ada Lovelace", "Alan Turing"]


def test_profile_view_shows_learned_words_and_author_matches_and_reset_forgets(db: Session) -> None:
    papers = [
        add_paper(db, f"Speech recognition in noisy rooms {i}", day=DAY, authors=["Wei Zhang", f"P {i}"])
        for i in range(3)
    ]
    unique = add_paper(db, "Compilers for proofs", day=DAY, authors=["Grace Hopper"])
    sub = add_subscriber(db, "ada@example.org")
    sub.authors = ["Grace Hopper", "Wei Zhang"]
    for p in papers:
        db.add(Feedback(subscriber_id=sub.id, kind="less", paper_id=p.id, created_at=NOW))
    db.add(Feedback(subscriber_id=sub.id, kind="seed", paper_id=unique.id, created_at=NOW))
    db.flush()
    view = learned_view(db, sub, NOW)
    assert {"speech", "recognition", "noisy", "rooms"} <= set(view.less_words)
    assert [p.title for p in view.disliked][:1] == ["Speech recognition in noisy rooms 0"]
    assert [p.title for p in view.seeds] == ["Compilers for proofs"]
    by_name = {a.name: a for a in view.authors}
    assert [p.title for p in by_name["Grace Hopper"].papers] == ["Compilers for proofs"]
    assert by_name["Wei Zhang"].total == 3
    assert service.reset_learned(db, sub, NOW) == 3
    kinds = db.scalars(select(Feedback.kind).where(Feedback.subscriber_id == sub.id)).all()
    assert kinds == ["seed"]
    assert isinstance(db.get(Subscriber, sub.id), Subscriber)
