"""Topics, papers (through `tests.factories`), vectors and subscribers for the digest and mail tests."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime

import numpy as np
from sqlalchemy.orm import Session

from app.embed.encoder import HashingEncoder
from app.embed.vectors import to_bytes
from app.ingest.records import embedding_text
from app.models import Embedding, Paper, PaperScore, PaperTopic, Subscriber, SubscriberTopic, Topic
from app.models.subscriber import new_link_key
from tests.factories import make_paper

ENCODER = HashingEncoder(dim=64, model_name="hashing-test")
_ids = itertools.count(1)


def add_topic(session: Session, label: str, *, keywords: list[str] | None = None) -> Topic:
    slug = label.lower().replace(" ", "-")
    topic = Topic(slug=slug, label=label, kind="area", keywords=keywords or [], size=10)
    session.add(topic)
    session.flush()
    return topic


def add_paper(
    session: Session,
    title: str,
    abstract: str = "",
    *,
    day: date,
    topics: dict[Topic, float] | None = None,
    authors: list[str] | None = None,
    trending: float | None = None,
    upvotes: int | None = None,
    embed: bool = True,
    created_at: datetime | None = None,
) -> Paper:
    n = next(_ids)
    arxiv_id = f"{day:%y%m}.{n:05d}"
    abstract = abstract or f"We study {title.lower()} in detail and report results."
    paper = make_paper(
        title,
        abstract,
        arxiv_id=arxiv_id,
        categories=["cs.LG"],
        day=day,
        authors=authors or ["Ada Lovelace", "Alan Turing"],
        abs_url=f"https://arxiv.org/abs/{arxiv_id}",
        upvotes=upvotes,
        created_at=created_at or datetime.combine(day, datetime.min.time(), tzinfo=UTC),
    )
    session.add(paper)
    session.flush()
    for topic, score in (topics or {}).items():
        session.add(PaperTopic(paper_id=paper.id, topic_id=topic.id, score=score))
    if trending is not None:
        session.add(PaperScore(paper_id=paper.id, window="day", score=trending, components={}))
    if embed:
        vector = ENCODER.encode([embedding_text(title, abstract)])[0]
        session.add(
            Embedding(
                paper_id=paper.id,
                model=ENCODER.model_name,
                text_hash=paper.text_hash,
                dim=len(vector),
                vector=to_bytes(vector),
            )
        )
    session.flush()
    return paper


def add_subscriber(
    session: Session,
    email: str,
    *,
    topics: list[Topic] | None = None,
    status: str = "confirmed",
    frequency: str = "daily",
    send_hour: int = 7,
    timezone: str = "UTC",
    keywords: list[str] | None = None,
    interest: str | None = None,
    max_papers: int = 10,
    include_trending: bool = True,
) -> Subscriber:
    sub = Subscriber(
        email=email,
        status=status,
        frequency=frequency,
        send_hour=send_hour,
        timezone=timezone,
        keywords=keywords or [],
        interest_text=interest,
        max_papers=max_papers,
        include_trending=include_trending,
        link_key=new_link_key(),
        confirmed_at=datetime(2026, 1, 1, tzinfo=UTC) if status == "confirmed" else None,
    )
    if interest:
        sub.interest_vector = np.asarray(ENCODER.encode([interest])[0], dtype=np.float32).tobytes()
        sub.interest_model = ENCODER.model_name
    session.add(sub)
    session.flush()
    for topic in topics or []:
        session.add(SubscriberTopic(subscriber_id=sub.id, topic_id=topic.id))
    session.flush()
    return sub
