"""Paper read models: one paper's page, and the filtered paper list with cursor pagination."""

from __future__ import annotations

import base64
import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import ColumnElement, String, and_, cast, or_, select
from sqlalchemy.orm import Session

from app.browse.cards import cards_for, find_paper, topics_for, visible_topic
from app.browse.inputs import identifier
from app.browse.types import PaperCard, PaperDetail
from app.models import Paper, PaperScore, PaperTopic, Topic

CATEGORY_PATTERN = r"^[A-Za-z][A-Za-z-]*(\.[A-Za-z][A-Za-z-]*)?$"
CATEGORY_RE = re.compile(CATEGORY_PATTERN)
MAX_LIMIT = 100


@dataclass(frozen=True)
class PaperPage:
    cards: list[PaperCard]
    next_cursor: str | None


def paper_detail(session: Session, public_id: str) -> PaperDetail | None:
    paper = find_paper(session, public_id)
    if paper is None:
        return None
    score_row = session.execute(
        select(PaperScore.score, PaperScore.components).where(
            PaperScore.paper_id == paper.id, PaperScore.window == "week"
        )
    ).first()
    scores = {paper.id: (float(score_row[0]), dict(score_row[1] or {}))} if score_row else None
    card = cards_for(session, [paper], scores=scores)[0]
    all_topics = topics_for(session, [paper.id], per_paper=None).get(paper.id, [])
    return PaperDetail(card=card, all_topics=all_topics, raw_sources=tuple(sorted((paper.raw or {}).keys())))


def cards_by_ids(session: Session, ids: list[int]) -> list[PaperCard]:
    """Cards for the given paper ids, in that order (unknown ids are skipped)."""
    if not ids:
        return []
    by_id = {p.id: p for p in session.scalars(select(Paper).where(Paper.id.in_(ids))).all()}
    return cards_for(session, [by_id[i] for i in ids if i in by_id])


def encode_cursor(published_at: datetime | None, paper_id: int) -> str:
    payload = json.dumps([published_at.isoformat() if published_at else None, paper_id]).encode()
    return base64.urlsafe_b64encode(payload).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime | None, int]:
    """Raises ValueError for anything that is not a cursor this module produced."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        when, paper_id = json.loads(raw)
        stamp = datetime.fromisoformat(when) if when is not None else None
        if stamp is not None and stamp.tzinfo is None:
            raise ValueError("naive")
        if not isinstance(paper_id, int) or isinstance(paper_id, bool):
            raise ValueError("id")
        return stamp, paper_id
    except (ValueError, TypeError, json.JSONDecodeError) as exc:
        raise ValueError("invalid cursor") from exc


def _after(cursor: tuple[datetime | None, int]) -> ColumnElement[bool]:
    """Keyset condition for `ORDER BY published_at DESC NULLS LAST, id DESC`."""
    stamp, paper_id = cursor
    if stamp is None:
        return and_(Paper.published_at.is_(None), Paper.id < paper_id)
    return or_(
        Paper.published_at < stamp,
        and_(Paper.published_at == stamp, Paper.id < paper_id),
        Paper.published_at.is_(None),
    )


def category_condition(category: str) -> ColumnElement[bool]:
    if not CATEGORY_RE.match(category):
        raise ValueError("category must look like cs.LG")
    # The JSON list is matched as text: portable across SQLite and PostgreSQL, and exact thanks to the quotes.
    return or_(Paper.primary_category == category, cast(Paper.categories, String).like(f'%"{category}"%'))


def list_papers(
    session: Session,
    *,
    topic_slug: str | None = None,
    category: str | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    has_code: bool | None = None,
    cursor: str | None = None,
    limit: int = 20,
) -> PaperPage:
    """Papers newest first with filters. Raises ValueError (bad cursor or category), LookupError (topic)."""
    limit = max(1, min(limit, MAX_LIMIT))
    stmt = select(Paper).where(Paper.withdrawn.is_(False))
    if topic_slug:
        topic = session.scalar(select(Topic).where(Topic.slug == identifier(topic_slug), visible_topic()))
        if topic is None:
            raise LookupError(f"no topic {topic_slug!r}")
        stmt = stmt.where(Paper.id.in_(select(PaperTopic.paper_id).where(PaperTopic.topic_id == topic.id)))
    if category:
        stmt = stmt.where(category_condition(category))
    if date_from:
        start = datetime.combine(date_from, time.min, tzinfo=UTC)
        stmt = stmt.where(
            or_(
                Paper.announced_date >= date_from,
                and_(Paper.announced_date.is_(None), Paper.published_at >= start),
            )
        )
    if date_to:
        end = datetime.combine(date_to + timedelta(days=1), time.min, tzinfo=UTC)
        stmt = stmt.where(
            or_(
                Paper.announced_date <= date_to,
                and_(Paper.announced_date.is_(None), Paper.published_at < end),
            )
        )
    if has_code is not None:
        stmt = stmt.where(Paper.code_url.is_not(None) if has_code else Paper.code_url.is_(None))
    if cursor:
        stmt = stmt.where(_after(decode_cursor(cursor)))
    papers = session.scalars(
        stmt.order_by(Paper.published_at.desc().nulls_last(), Paper.id.desc()).limit(limit + 1)
    ).all()
    more = len(papers) > limit
    papers = papers[:limit]
    next_cursor = encode_cursor(papers[-1].published_at, papers[-1].id) if more and papers else None
    return PaperPage(cards_for(session, papers), next_cursor)
