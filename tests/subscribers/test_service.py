"""The subscription service on both databases: limits, confirmation, unsubscribe, preferences, data."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models import Digest, Feedback, Paper, Subscriber, SubscriberTopic, Topic
from app.models.subscriber import SubscribeAttempt, SubscriberEvent
from app.subscribers import service
from app.subscribers.service import SubscribeLimits
from app.subscribers.tokens import InvalidToken, TokenSigner
from app.subscribers.validation import Preferences

SIGNER = TokenSigner(["s" * 40])
NOW = datetime(2026, 5, 5, 12, 0, tzinfo=UTC)
LIMITS = SubscribeLimits(cooldown_minutes=10, ip_per_hour=5, global_per_hour=100, per_address_per_day=3)


def _subscribe(db: Session, email: str, *, ip: str = "192.0.2.1", now: datetime = NOW, **kw: object) -> str:
    result = service.subscribe(
        db,
        email=email,
        topic_ids=[],
        ip=ip,
        now=now,
        signer=SIGNER,
        limits=LIMITS,
        **kw,  # type: ignore[arg-type]
    )
    return result.outcome


def _topic(db: Session, label: str) -> Topic:
    topic = Topic(slug=label.lower(), label=label)
    db.add(topic)
    db.flush()
    return topic


def test_requirement_1_new_address_becomes_pending_and_may_be_mailed_once(db: Session) -> None:
    """Requirement 1 (service half): a new address creates a pending subscriber; one confirmation allowed."""
    topic = _topic(db, "Quantization")
    result = service.subscribe(
        db,
        email="new@example.org",
        topic_ids=[topic.id, 999_999],
        ip="192.0.2.1",
        now=NOW,
        signer=SIGNER,
        limits=LIMITS,
    )
    assert result.should_send and result.subscriber is not None
    sub = result.subscriber
    assert sub.status == "pending" and sub.confirm_sent_at == NOW
    assert db.scalars(select(SubscriberTopic.topic_id)).all() == [topic.id]  # unknown ids are dropped
    assert _subscribe(db, "new@example.org", now=NOW + timedelta(minutes=1)) == "cooldown"


def test_requirement_9_cooldown_per_address(db: Session) -> None:
    """Requirement 9 (service half): within the cooldown only the first request may send."""
    outcomes = [
        _subscribe(db, "same@example.org", ip=f"192.0.2.{i}", now=NOW + timedelta(seconds=i))
        for i in range(10)
    ]
    assert outcomes.count("send") == 1 and outcomes[0] == "send"
    assert _subscribe(db, "same@example.org", now=NOW + timedelta(minutes=11)) == "send"


def test_requirement_10_per_ip_limit(db: Session) -> None:
    """Requirement 10 (service half): beyond the per-IP limit nothing may be sent, whatever the address."""
    outcomes = [_subscribe(db, f"user{i}@example.org", ip="198.51.100.7") for i in range(7)]
    assert outcomes == ["send"] * 5 + ["ip_limit"] * 2
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 5  # throttled requests create nothing
    assert _subscribe(db, "other@example.org", ip="198.51.100.8") == "send"
    assert (
        _subscribe(db, "later@example.org", ip="198.51.100.7", now=NOW + timedelta(hours=1, minutes=1))
        == "send"
    )
    stored = db.scalars(select(SubscribeAttempt.ip_hash)).all()
    assert all("198.51" not in h for h in stored)  # only keyed hashes are kept


def test_suppressed_confirmed_and_honeypot_send_nothing(db: Session) -> None:
    from app.models import Suppression

    db.add(Suppression(email="bounced@example.org", kind="bounce", source="smtp"))
    db.add(Subscriber(email="member@example.org", status="confirmed", link_key="k"))
    db.flush()
    assert _subscribe(db, "bounced@example.org") == "suppressed"
    assert _subscribe(db, "member@example.org") == "confirmed"
    assert _subscribe(db, "bot@example.org", honeypot=True) == "honeypot"
    assert (
        db.scalar(select(func.count()).select_from(Subscriber).where(Subscriber.email == "bot@example.org"))
        == 0
    )


def test_requirement_5_confirmation_link_works_once(db: Session) -> None:
    """Requirement 5: a confirmation token that has already been used is rejected."""
    now = datetime.now(UTC)
    sub = service.subscribe(
        db, email="a@example.org", topic_ids=[], ip="x", now=now, signer=SIGNER, limits=LIMITS
    ).subscriber
    assert sub is not None
    token = SIGNER.confirm_token(sub.id, sub.link_key, sub.token_version)
    assert service.pending_for_confirm_token(db, SIGNER, token, now).id == sub.id
    assert service.confirm(db, SIGNER, token, now).status == "confirmed"
    with pytest.raises(InvalidToken):
        service.confirm(db, SIGNER, token, now)
    with pytest.raises(InvalidToken):
        service.pending_for_confirm_token(db, SIGNER, token, now)


def test_requirement_4_expired_confirmation_leaves_the_subscriber_pending(db: Session) -> None:
    """Requirement 4: a token older than 72 h is rejected and the subscriber stays pending."""
    sub = service.subscribe(
        db, email="slow@example.org", topic_ids=[], ip="x", now=NOW, signer=SIGNER, limits=LIMITS
    ).subscriber
    assert sub is not None
    token = SIGNER.confirm_token(sub.id, sub.link_key, sub.token_version)
    late = datetime.now(UTC) + timedelta(hours=73)
    with pytest.raises(InvalidToken):
        service.confirm(db, SIGNER, token, late)
    db.refresh(sub)
    assert sub.status == "pending" and sub.confirmed_at is None


def test_links_of_a_deleted_subscriber_do_not_pass_to_a_reused_row(db: Session) -> None:
    sub = Subscriber(email="first@example.org", status="confirmed", link_key="first-key")
    db.add(sub)
    db.flush()
    token = SIGNER.unsubscribe_token(sub.id, "first-key")
    sub.link_key = "someone-else"  # as if the id now belonged to another row
    db.flush()
    with pytest.raises(InvalidToken):
        service.from_unsubscribe_token(db, SIGNER, token)


def test_requirement_22_unsubscribing_twice_records_one_event(db: Session) -> None:
    """Requirement 22 (service half): a repeated unsubscribe changes nothing and records no second event."""
    sub = Subscriber(email="a@example.org", status="confirmed", link_key="k", confirmed_at=NOW)
    db.add(sub)
    db.flush()
    assert service.unsubscribe(db, sub, NOW, via="one-click") is True
    assert service.unsubscribe(db, sub, NOW, via="one-click") is False
    events = db.scalars(select(SubscriberEvent.kind).where(SubscriberEvent.subscriber_id == sub.id)).all()
    assert events.count("unsubscribed") == 1
    assert service.resubscribe(db, sub, NOW) is True and sub.status == "confirmed"


def test_unsubscribed_address_needs_a_fresh_opt_in(db: Session) -> None:
    sub = Subscriber(email="back@example.org", status="unsubscribed", link_key="k", token_version=3)
    db.add(sub)
    db.flush()
    assert _subscribe(db, "back@example.org") == "send"
    assert sub.status == "pending" and sub.token_version == 4


def test_preferences_are_saved_and_interest_vector_reset(db: Session) -> None:
    topic = _topic(db, "Quantization")
    paper = Paper(
        source="arxiv_api", source_id="2306.00978", arxiv_id="2306.00978", title="AWQ", text_hash="h"
    )
    sub = Subscriber(email="p@example.org", status="confirmed", link_key="k", interest_text="old",
                     interest_vector=b"\x00" * 16, interest_model="m")  # fmt: skip
    db.add_all([paper, sub])
    db.flush()
    prefs = Preferences(
        topic_ids=[topic.id],
        keywords=["KV cache"],
        interest_text="efficient LLM inference on phones",
        frequency="weekly",
        send_hour=6,
        timezone="Europe/Berlin",
        max_papers=5,
        include_trending=False,
        seed_paper_refs=["2306.00978", "2401.99999"],
    )
    unknown = service.update_preferences(db, sub, prefs, NOW)
    assert unknown == ["2401.99999"]
    assert sub.interest_vector is None and sub.interest_model is None
    again = service.current_preferences(db, sub)
    assert again == Preferences(
        topic_ids=[topic.id],
        keywords=["KV cache"],
        interest_text="efficient LLM inference on phones",
        frequency="weekly",
        send_hour=6,
        timezone="Europe/Berlin",
        max_papers=5,
        include_trending=False,
        seed_paper_refs=["2306.00978"],
    )


def test_feedback_apply_is_idempotent_opposites_replace_and_undo_removes(db: Session) -> None:
    paper = Paper(source="arxiv_api", source_id="1", title="P", text_hash="h")
    sub = Subscriber(email="f@example.org", status="confirmed", link_key="k")
    db.add_all([paper, sub])
    db.flush()
    assert service.apply_feedback(db, sub, "less", paper.id, NOW)
    assert service.apply_feedback(db, sub, "more", paper.id, NOW)
    assert not service.apply_feedback(db, sub, "more", paper.id, NOW)
    kinds = db.scalars(select(Feedback.kind).where(Feedback.subscriber_id == sub.id)).all()
    assert kinds == ["more"]
    assert service.undo_feedback(db, sub, "more", paper.id, NOW)
    assert db.scalar(select(func.count()).select_from(Feedback)) == 0


def test_export_has_everything_and_delete_forgets_it(db: Session) -> None:
    sub = Subscriber(email="gdpr@example.org", status="confirmed", link_key="k", keywords=["LoRA"])
    db.add(sub)
    db.flush()
    db.add(Digest(subscriber_id=sub.id, period="2026-05-05", frequency="daily", subject="s"))
    service.unsubscribe(db, sub, NOW, via="link")
    data = service.export_data(db, sub)
    assert data["email"] == "gdpr@example.org" and data["preferences"]["keywords"] == ["LoRA"]
    assert [e["kind"] for e in data["events"]] == ["unsubscribed"]
    service.delete_subscriber(db, sub)
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(Subscriber)) == 0
    assert db.scalar(select(func.count()).select_from(Digest)) == 0
    assert db.scalar(select(func.count()).select_from(SubscriberEvent)) == 0
