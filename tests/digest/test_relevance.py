"""What subscribers told us, end to end on both databases: feedback that learns, exclusions,
followed authors, named interests, personal trending, no filler and the window's end."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from app.digest.service import BuildReport, DigestOptions, build_due_digests
from app.embed.service import load_vectors
from app.models import Feedback, Paper, Subscriber, SubscriberInterest, Topic
from tests.digest.digest_support import ENCODER, add_paper, add_subscriber, add_topic

NOW = datetime(2026, 5, 5, 9, 0, tzinfo=UTC)
TODAY = NOW.date()
OPTIONS = DigestOptions(first_days=3, model_name=ENCODER.model_name)


def build(db: Session, now: datetime = NOW, *, quiet: bool = False) -> BuildReport:
    options = DigestOptions(first_days=3, model_name=ENCODER.model_name, quiet_note=quiet)
    return build_due_digests(db, now=now, options=options, load_vectors=load_vectors)


def _subjects(db: Session, area: Topic, day: date, n: int = 3) -> tuple[list[Paper], list[Paper]]:
    speech = [
        add_paper(
            db,
            f"Speech recognition with noisy audio part {i}",
            day=day,
            topics={area: 0.9},
            authors=[f"S {i}"],
        )
        for i in range(n)
    ]
    vision = [
        add_paper(db, f"Image classification with convolutions part {i}",
                  "Pixels and filters label photographs.",
                  day=day, topics={area: 0.95},
                  authors=[f"V {i}"])
        for i in range(n)
    ]  # fmt: skip
    return speech, vision


def _mark(db: Session, sub: Subscriber, kind: str, papers: list[Paper]) -> None:
    for p in papers:
        db.add(Feedback(subscriber_id=sub.id, kind=kind, paper_id=p.id, created_at=NOW))
    db.flush()


def _titles(report: BuildReport, section: str = "for_you") -> list[str]:
    (digest,) = report.digests
    return [i.title for i in digest.items if i.section == section]


def test_less_like_this_on_three_papers_drops_their_subject_from_the_next_digest(db: Session) -> None:
    area = add_topic(db, "Machine learning")
    speech, _ = _subjects(db, area, TODAY)
    sub = add_subscriber(db, "ada@example.org", topics=[area], include_trending=False)
    first = build(db)
    assert any("Speech" in t for t in _titles(first))
    _mark(db, sub, "less", speech)
    _subjects(db, area, TODAY + timedelta(days=1))
    second = _titles(build(db, NOW + timedelta(days=1)))
    assert second and not any("Speech" in t for t in second)


def test_more_like_this_raises_the_subject(db: Session) -> None:
    area = add_topic(db, "Machine learning")
    speech, _ = _subjects(db, area, TODAY)
    sub = add_subscriber(db, "ada@example.org", topics=[area], include_trending=False, max_papers=3)
    assert not any("Speech" in t for t in _titles(build(db)))  # vision scores higher in the topic
    _mark(db, sub, "more", speech)
    _subjects(db, area, TODAY + timedelta(days=1))
    second = _titles(build(db, NOW + timedelta(days=1)))
    assert all("Speech" in t for t in second)
    (digest,) = build_due_digests(
        db, now=NOW + timedelta(days=2), options=OPTIONS, load_vectors=load_vectors
    ).digests or [None]  # nothing new on day 3: no digest at all
    assert digest is None


def test_an_exclusion_keyword_removes_the_paper_that_would_rank_first(db: Session) -> None:
    add_paper(db, "Quantization of diffusion models", "Quantization, quantized weights.", day=TODAY)
    add_paper(db, "Efficient transformers", "We study quantization and quantized training.", day=TODAY)
    add_subscriber(db, "a@example.org", keywords=["quantization"])
    add_subscriber(db, "b@example.org", keywords=["quantization"]).exclude_keywords = ["diffusion"]
    db.flush()
    report = build(db)
    by_email = {d.email: [i.title for i in d.items if i.section == "for_you"] for d in report.digests}
    assert by_email["a@example.org"][0] == "Quantization of diffusion models"
    assert by_email["b@example.org"] == ["Efficient transformers"]
    first = next(d for d in report.digests if d.email == "a@example.org").items[0]
    assert first.reason == "Matches your keyword “quantization” in the title"


def test_no_matching_paper_means_no_filler_and_a_truthful_quiet_note(db: Session) -> None:
    other = add_topic(db, "3D vision")
    for i in range(3):
        add_paper(
            db, f"Neural radiance fields {i}", day=TODAY, topics={other: 0.9}, trending=5.0 + i, upvotes=40
        )
    sub = add_subscriber(db, "ada@example.org", keywords=["sign language"])
    report = build(db)
    assert report.built == 0 and report.nothing_new == 1 and not report.digests
    sub.quiet_note = True
    sub.last_digest_at = None
    db.flush()
    (digest,) = build(db, NOW + timedelta(hours=1)).digests
    assert digest.kind == "quiet" and digest.items == []
    assert digest.subject == "No new papers for you this time"


def test_trending_section_only_holds_papers_in_the_subscribers_areas(db: Session) -> None:
    speech = add_topic(db, "Speech")
    vision = add_topic(db, "3D vision")
    add_paper(db, "Streaming speech recognition", day=TODAY, topics={speech: 0.95})
    near = add_paper(db, "A speech dataset", day=TODAY, topics={speech: 0.4}, trending=3.0, upvotes=12)
    add_paper(db, "Gaussian splatting at scale", day=TODAY, topics={vision: 0.9}, trending=9.0, upvotes=90)
    add_subscriber(db, "ada@example.org", topics=[speech])
    report = build(db)
    (digest,) = report.digests
    assert [i.paper_id for i in digest.items if i.section == "trending"] == [near.id]
    assert digest.subject.startswith("1 new paper")  # the trending extra is not counted as a pick


def test_the_window_ends_at_the_build_time(db: Session) -> None:
    add_paper(db, "Quantized inference today", day=TODAY)
    add_paper(db, "Quantized inference tomorrow", day=TODAY + timedelta(days=1))
    add_subscriber(db, "ada@example.org", keywords=["quantized"])
    (digest,) = build(db).digests
    assert [i.title for i in digest.items] == ["Quantized inference today"]


def test_followed_author_and_named_interest_sections(db: Session) -> None:
    add_paper(db, "A paper on compilers", day=TODAY, authors=["Grace Hopper", "X Y"])
    add_paper(db, "Sign language translation", day=TODAY, authors=["Z W"])
    add_paper(db, "Unrelated robotics", day=TODAY, authors=["Q R"])
    sub = add_subscriber(db, "ada@example.org")
    sub.authors = ["grace hopper"]
    db.add(
        SubscriberInterest(
            subscriber_id=sub.id, position=0, name="Sign languages", keywords=["sign language"]
        )
    )
    db.flush()
    (digest,) = build(db).digests
    sections = {i.title: (i.section, i.reason) for i in digest.items}
    assert sections["A paper on compilers"] == ("for_you", "By grace hopper, an author you follow")
    section, reason = sections["Sign language translation"]
    assert digest.sections[section] == "Sign languages" and "sign language" in reason
    assert "Unrelated robotics" not in sections
    assert "Sign languages" in digest.subject


def test_less_like_this_on_one_keywords_papers_weighs_that_keyword_less(db: Session) -> None:
    loose = [
        add_paper(db, title, day=TODAY)
        for title in (
            "Recommendation of optimizers",
            "Recommendation of prompts",
            "Recommendation for clinicians",
        )
    ]
    add_paper(db, "Collaborative filtering with graphs", day=TODAY)
    sub = add_subscriber(db, "ada@example.org", keywords=["recommendation", "collaborative filtering"])
    assert len(_titles(build(db))) == 4
    _mark(db, sub, "less", loose)
    add_paper(db, "Recommendation of learning rates", day=TODAY + timedelta(days=1))
    add_paper(db, "Collaborative filtering for music", day=TODAY + timedelta(days=1))
    assert _titles(build(db, NOW + timedelta(days=1))) == ["Collaborative filtering for music"]
