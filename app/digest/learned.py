"""What a subscriber's digest has learned, in words, for their profile page (reads only).

The words, topics and authors their "more / less like this" marks weigh most (`learning.learn`,
the rules the ranking uses), the papers they marked, the topics they muted, and for each followed
author the recent papers that carry that name, so a common name shared by several people shows
as such (the digest then counts it only together with the subscriber's other interests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import String, cast, select
from sqlalchemy.orm import Session

from app.digest import queries
from app.digest.learning import Marked, learn
from app.digest.selection import Weights, author_key
from app.models import Feedback, Paper, Subscriber, Topic

AUTHOR_DAYS = 60


@dataclass(frozen=True)
class PaperLine:
    public_id: str
    title: str
    day: date | None


@dataclass
class AuthorMatches:
    name: str
    papers: list[PaperLine]
    total: int
    common: bool  # more papers a week than one person usually writes: probably several people


@dataclass
class LearnedView:
    less_words: list[str] = field(default_factory=list)
    more_topics: list[str] = field(default_factory=list)
    less_topics: list[str] = field(default_factory=list)
    authors_liked: list[str] = field(default_factory=list)
    liked: list[PaperLine] = field(default_factory=list)
    disliked: list[PaperLine] = field(default_factory=list)
    seeds: list[PaperLine] = field(default_factory=list)
    muted: list[str] = field(default_factory=list)
    authors: list[AuthorMatches] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.liked or self.disliked or self.seeds or self.muted)


def learned_view(session: Session, subscriber: Subscriber, now: datetime) -> LearnedView:
    rows = list(
        session.execute(
            select(Feedback.kind, Feedback.paper_id, Feedback.topic_id)
            .where(Feedback.subscriber_id == subscriber.id)
            .order_by(Feedback.id)
        )
    )
    paper_ids = sorted({pid for _, pid, _ in rows if pid is not None})
    papers = (
        {p.id: p for p in session.scalars(select(Paper).where(Paper.id.in_(paper_ids)))} if paper_ids else {}
    )
    visible = queries.visible_topics(session)
    topics_of = queries.paper_topics(session, paper_ids, set(visible))
    marked = [
        Marked(
            pid,
            kind,
            papers[pid].title,
            None,
            tuple(sorted(topics_of.get(pid, {}))),
            tuple(papers[pid].authors or ()),
        )
        for kind, pid, _ in rows
        if pid in papers and kind in ("more", "less", "seed")
    ]
    learned = learn(None, marked)
    view = LearnedView()
    view.less_words = [learned.words[s] for s, v in learned.terms.items() if v < 0]
    ranked = sorted(learned.topics.items(), key=lambda kv: (-abs(kv[1]), kv[0]))
    view.more_topics = [visible[t].label for t, v in ranked if v > 0 and t in visible][:8]
    view.less_topics = [visible[t].label for t, v in ranked if v < 0 and t in visible][:8]
    view.authors_liked = [a for a, v in sorted(learned.authors.items(), key=lambda kv: -kv[1]) if v > 0][:8]

    def line(p: Paper) -> PaperLine:
        return PaperLine(p.arxiv_id or f"{p.source}:{p.source_id}", p.title, p.announced_date)

    for kind, pid, _ in rows:
        if pid in papers:
            {"more": view.liked, "less": view.disliked, "seed": view.seeds}.get(kind, []).append(
                line(papers[pid])
            )
    muted_ids = [t for kind, _, t in rows if kind == "mute" and t is not None]
    if muted_ids:
        view.muted = [t.label for t in session.scalars(select(Topic).where(Topic.id.in_(muted_ids)))]
    for name in subscriber.authors or []:
        view.authors.append(author_matches(session, name, now))
    return view


def author_matches(session: Session, name: str, now: datetime, limit: int = 8) -> AuthorMatches:
    """Papers of the last `AUTHOR_DAYS` days that carry the name (newest first)."""
    key = author_key(name)
    last = key.split(" ")[-1] if key else ""
    since = now.date() - timedelta(days=AUTHOR_DAYS)
    found: list[Paper] = []
    if last:
        stmt = (
            select(Paper)
            .where(
                Paper.withdrawn.is_(False),
                Paper.announced_date >= since,
                cast(Paper.authors, String).ilike(f"%{last}%"),
            )
            .order_by(Paper.announced_date.desc(), Paper.id.desc())
        )
        found = [p for p in session.scalars(stmt) if any(author_key(a) == key for a in p.authors or [])]
    weeks = AUTHOR_DAYS / 7
    common = len(found) / weeks > Weights().common_author_papers
    lines = [
        PaperLine(p.arxiv_id or f"{p.source}:{p.source_id}", p.title, p.announced_date) for p in found[:limit]
    ]
    return AuthorMatches(name, lines, len(found), common)
