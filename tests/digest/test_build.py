"""Digest building on both databases: who is due, what they get, and what is never sent twice."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.digest.service import BuildReport, DigestOptions, build_due_digests
from app.embed.service import load_vectors
from app.models import Digest, DigestItem, Feedback, Paper, Suppression, Topic
from tests.digest.digest_support import ENCODER, add_paper, add_subscriber, add_topic

NOW = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)  # a Tuesday, 09:00 UTC
TODAY = NOW.date()
OPTIONS = DigestOptions(first_days=3, model_name=ENCODER.model_name)


def build(db: Session, now: datetime = NOW) -> BuildReport:
    return build_due_digests(db, now=now, options=OPTIONS, load_vectors=load_vectors)


@dataclass
class World:
    quant: Topic
    rl: Topic
    papers: list[Paper]


def _world(db: Session) -> World:
    quant = add_topic(db, "Quantization")
    rl = add_topic(db, "Reinforcement learning")
    papers = [
        add_paper(db, f"Quantized LLM inference {i}", day=TODAY, topics={quant: 0.9 - i / 20})
        for i in range(4)
    ]
    papers += [add_paper(db, f"Policy gradient method {i}", day=TODAY, topics={rl: 0.8}) for i in range(3)]
    return World(quant, rl, papers)


def test_due_subscriber_gets_topic_papers_with_reasons(db: Session) -> None:
    w = _world(db)
    sub = add_subscriber(db, "ada@example.org", topics=[w.quant])
    report = build(db)
    assert report.built == 1
    (digest,) = report.digests
    assert digest.subscriber_id == sub.id and digest.period == "2026-05-05"
    main = [i for i in digest.items if i.section == "for_you"]
    assert main[0].title.startswith("Quantized LLM inference")
    assert all(i.reason for i in digest.items if i.score >= 0.55)  # a pick that only just passed has none
    assert main[0].reason == "In your topic Quantization"
    assert "Quantization" in digest.subject
    rows = db.scalars(select(DigestItem).where(DigestItem.digest_id == digest.digest_id)).all()
    assert len(rows) == len(digest.items)


def test_requirement_2_pending_subscriber_gets_no_digest(db: Session) -> None:
    """Requirement 2: a pending subscriber receives no digest."""
    w = _world(db)
    add_subscriber(db, "pending@example.org", topics=[w.quant], status="pending")
    add_subscriber(db, "gone@example.org", topics=[w.quant], status="unsubscribed")
    report = build(db)
    assert report.subscribers == 0 and report.built == 0
    assert db.scalar(select(func.count()).select_from(Digest)) == 0


def test_requirement_28_suppressed_address_is_skipped_when_queuing(db: Session) -> None:
    """Requirement 28: suppressed addresses are skipped at enqueue."""
    w = _world(db)
    add_subscriber(db, "bounced@example.org", topics=[w.quant])
    db.add(Suppression(email="bounced@example.org", kind="bounce", reason="550 5.1.1", source="smtp"))
    db.flush()
    assert build(db).built == 0


def test_send_hour_in_the_subscribers_time_zone(db: Session) -> None:
    w = _world(db)
    # 09:00 UTC is 05:00 in New York: not yet; 18:00 in Tokyo: due (local date already the 5th).
    ny = add_subscriber(db, "ny@example.org", topics=[w.quant], timezone="America/New_York", send_hour=7)
    tokyo = add_subscriber(db, "tk@example.org", topics=[w.quant], timezone="Asia/Tokyo", send_hour=7)
    first = build(db)
    assert [d.subscriber_id for d in first.digests] == [tokyo.id]
    later = build(db, NOW + timedelta(hours=3))  # 08:00 in New York
    assert [d.subscriber_id for d in later.digests] == [ny.id]
    assert later.already_built == 1


def test_requirement_35_building_twice_for_one_period_creates_nothing_new(db: Session) -> None:
    """Requirement 35: running the daily job twice for the same date creates no duplicate digests."""
    w = _world(db)
    add_subscriber(db, "ada@example.org", topics=[w.quant])
    assert build(db).built == 1
    add_paper(db, "Quantized LLM inference late", day=TODAY, topics={w.quant: 0.9})
    again = build(db, NOW + timedelta(hours=5))
    assert again.built == 0 and again.already_built == 1
    assert db.scalar(select(func.count()).select_from(Digest)) == 1


def test_never_a_paper_already_received_and_no_papers_means_no_digest(db: Session) -> None:
    w = _world(db)
    sub = add_subscriber(db, "ada@example.org", topics=[w.quant], max_papers=3, include_trending=False)
    first = build(db)
    got = {i.paper_id for i in first.digests[0].items}
    # Next day: nothing new announced (a holiday) → no digest at all.
    tomorrow = NOW + timedelta(days=1)
    quiet = build(db, tomorrow)
    assert quiet.built == 0 and quiet.nothing_new == 1
    # Day after: new papers; the earlier ones (sent or not) are not offered again unless new.
    new = add_paper(db, "Quantized LLM inference new", day=TODAY + timedelta(days=2), topics={w.quant: 0.9})
    third = build(db, NOW + timedelta(days=2))
    items = {i.paper_id for i in third.digests[0].items}
    assert new.id in items and not items & got
    periods = db.scalars(
        select(Digest.period).where(Digest.subscriber_id == sub.id).order_by(Digest.period)
    ).all()
    assert periods == ["2026-05-05", "2026-05-07"]


def test_late_ingested_paper_of_an_earlier_day_is_not_lost(db: Session) -> None:
    w = _world(db)
    add_subscriber(db, "ada@example.org", topics=[w.quant])
    build(db)
    late = add_paper(
        db,
        "Quantized LLM inference retried ingest",
        day=TODAY,
        topics={w.quant: 0.9},
        created_at=NOW + timedelta(hours=2),
    )
    nxt = build(db, NOW + timedelta(days=1))
    assert late.id in {i.paper_id for i in nxt.digests[0].items}


def test_weekly_digest_uses_the_iso_week(db: Session) -> None:
    w = _world(db)
    add_subscriber(db, "weekly@example.org", topics=[w.rl], frequency="weekly")
    first = build(db)
    assert first.digests[0].period == "2026-W19"
    assert build(db, NOW + timedelta(days=2)).built == 0


def test_paused_subscriber_gets_nothing(db: Session) -> None:
    w = _world(db)
    add_subscriber(db, "paused@example.org", topics=[w.rl], frequency="paused")
    assert build(db).built == 0


def test_muted_topic_and_less_like_this_shape_the_next_digest(db: Session) -> None:
    w = _world(db)
    sub = add_subscriber(db, "ada@example.org", topics=[w.quant, w.rl])
    db.add(Feedback(subscriber_id=sub.id, kind="mute", topic_id=w.rl.id))
    db.flush()
    digest = build(db).digests[0]
    titles = [i.title for i in digest.items]
    assert titles and not any(t.startswith("Policy gradient") for t in titles)


def test_quiet_note_when_enabled_and_new_papers_match_nothing(db: Session) -> None:
    w = _world(db)
    add_subscriber(db, "ada@example.org", keywords=["protein folding"], include_trending=False)
    assert build(db).built == 0
    options = DigestOptions(first_days=3, model_name=ENCODER.model_name, quiet_note=True)
    report = build_due_digests(db, now=NOW, options=options, load_vectors=load_vectors)
    assert report.quiet == 1 and report.digests[0].kind == "quiet" and report.digests[0].items == []
    assert w  # the world exists: new papers were announced, none matched


def test_first_digest_covers_only_the_configured_number_of_days_with_papers(db: Session) -> None:
    """first_days=3: the three latest days that have papers (Mon 4, Fri 1, Thu 30), not Wed 29 April."""
    quant = add_topic(db, "Quantization")
    days = [date(2026, 5, 4), date(2026, 5, 1), date(2026, 4, 30), date(2026, 4, 29)]
    papers = [add_paper(db, f"Quantized paper of {d}", day=d, topics={quant: 0.9}) for d in days]
    add_subscriber(db, "ada@example.org", topics=[quant])
    (digest,) = build(db).digests
    ids = {i.paper_id for i in digest.items}
    assert ids == {p.id for p in papers[:3]}
    assert digest.note == "Your first digest: the newest papers we have for you, from 30 April – 4 May 2026."
    assert {(i.day, i.day_kind) for i in digest.items} == {(d, "announced") for d in days[:3]}


def test_interest_text_is_encoded_at_build_time(db: Session) -> None:
    add_paper(
        db, "Speculative decoding on phones", "Fast speculative decoding for mobile inference.", day=TODAY
    )
    add_paper(db, "Graph neural networks for molecules", "Message passing on molecular graphs.", day=TODAY)
    sub = add_subscriber(db, "ada@example.org", include_trending=False)
    sub.interest_text = "speculative decoding on mobile phones"
    db.flush()
    report = build_due_digests(db, now=NOW, options=OPTIONS, encoder=ENCODER, load_vectors=load_vectors)
    assert report.interests_encoded == 1 and sub.interest_model == ENCODER.model_name
    items = report.digests[0].items
    assert items[0].title == "Speculative decoding on phones"
    assert items[0].reason.startswith("Close to your interest")
    assert date(2026, 5, 5) == TODAY


def test_subscriber_of_a_merged_topic_follows_it_into_the_target(db: Session) -> None:
    w = _world(db)
    old = add_topic(db, "Low-bit Inference")  # merged by an operator into Quantization
    old.merged_into_id = w.quant.id
    old.status = "merged"
    db.flush()
    sub = add_subscriber(db, "grace@example.org", topics=[old])
    report = build(db)
    (digest,) = report.digests
    assert digest.subscriber_id == sub.id
    main = [i for i in digest.items if i.section == "for_you"]
    assert main and main[0].title.startswith("Quantized LLM inference")
    assert main[0].reason == "In your topic Quantization"
