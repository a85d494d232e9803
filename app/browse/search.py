"""Search and similar papers for the site and the API.

Hybrid search (meaning + keywords) and similar papers come from `app.embed.search` and need
the encoder and vector index the app loaded at start-up. Without them (no index built yet, or
the model not loaded) search falls back to keyword matching over titles and abstracts and
similar papers are simply not offered: the site never fails for want of an index.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.browse.cards import cards_for, visible_topic
from app.browse.inputs import clean, identifier
from app.browse.papers import cards_by_ids, category_condition
from app.browse.types import PaperCard
from app.models import Paper, PaperTopic, Topic

log = logging.getLogger("papertrend.browse")

MAX_QUERY_CHARS = 300
MAX_TERMS = 12


@dataclass(frozen=True)
class SearchFilters:
    topic_slug: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    category: str | None = None


@dataclass(frozen=True)
class SearchOutcome:
    query: str
    cards: list[PaperCard]
    total: int
    mode: str  # "hybrid" | "keyword"
    offset: int
    limit: int


def _topic_id(session: Session, slug: str | None) -> int | None:
    if not slug:
        return None
    topic_id = session.scalar(select(Topic.id).where(Topic.slug == identifier(slug), visible_topic()))
    if topic_id is None:
        raise LookupError(f"no topic {slug!r}")
    return int(topic_id)


def _escape_like(term: str) -> str:
    return term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _terms(query: str) -> list[str]:
    words = [w.strip("\"'()[]{},.;:!?").lower() for w in query.split()]
    return [w for w in dict.fromkeys(words) if w][:MAX_TERMS]


def keyword_search(
    session: Session, query: str, filters: SearchFilters, *, limit: int, offset: int
) -> tuple[list[PaperCard], int]:
    """Every term must appear in the title or abstract; title matches rank first, then newest."""
    terms = _terms(query)
    if not terms:
        return [], 0
    conditions: list[ColumnElement[bool]] = [Paper.withdrawn.is_(False)]
    title_hits = []
    for term in terms:
        pattern = f"%{_escape_like(term)}%"
        in_title = func.lower(Paper.title).like(pattern, escape="\\")
        conditions.append(or_(in_title, func.lower(Paper.abstract).like(pattern, escape="\\")))
        title_hits.append(case((in_title, 1), else_=0))
    topic_id = _topic_id(session, filters.topic_slug)
    if topic_id is not None:
        conditions.append(Paper.id.in_(select(PaperTopic.paper_id).where(PaperTopic.topic_id == topic_id)))
    if filters.category:
        conditions.append(category_condition(filters.category))
    if filters.date_from:
        start = datetime.combine(filters.date_from, time.min, tzinfo=UTC)
        conditions.append(
            or_(
                Paper.announced_date >= filters.date_from,
                and_(Paper.announced_date.is_(None), Paper.published_at >= start),
            )
        )
    if filters.date_to:
        end = datetime.combine(filters.date_to + timedelta(days=1), time.min, tzinfo=UTC)
        conditions.append(
            or_(
                Paper.announced_date <= filters.date_to,
                and_(Paper.announced_date.is_(None), Paper.published_at < end),
            )
        )
    where = and_(*conditions)
    total = int(session.scalar(select(func.count(Paper.id)).where(where)) or 0)
    rank = sum(title_hits[1:], title_hits[0])
    papers = session.scalars(
        select(Paper)
        .where(where)
        .order_by(rank.desc(), Paper.published_at.desc().nulls_last(), Paper.id.desc())
        .offset(offset)
        .limit(limit)
    ).all()
    return cards_for(session, list(papers), first_rank=offset + 1), total


def search(
    session: Session,
    query: str,
    *,
    filters: SearchFilters | None = None,
    encoder: Any = None,
    index: Any = None,
    limit: int = 20,
    offset: int = 0,
) -> SearchOutcome:
    """Hybrid search when an encoder and index are loaded, keyword search otherwise.

    Raises LookupError for an unknown topic and ValueError for a malformed category.
    """
    filters = filters or SearchFilters()
    query = " ".join(clean(query).split())[:MAX_QUERY_CHARS]
    limit = max(1, min(limit, 100))
    offset = max(0, offset)
    if not query:
        return SearchOutcome(query, [], 0, "keyword", offset, limit)
    if filters.category:
        category_condition(filters.category)  # validates before any search runs
    topic_id = _topic_id(session, filters.topic_slug)
    hybrid = _hybrid(
        session, query, filters, topic_id, encoder=encoder, index=index, limit=limit, offset=offset
    )
    if hybrid is not None:
        return hybrid
    cards, total = keyword_search(session, query, filters, limit=limit, offset=offset)
    return SearchOutcome(query, cards, total, "keyword", offset, limit)


def _hybrid(
    session: Session,
    query: str,
    filters: SearchFilters,
    topic_id: int | None,
    *,
    encoder: Any,
    index: Any,
    limit: int,
    offset: int,
) -> SearchOutcome | None:
    if encoder is None or index is None:
        return None
    try:
        from app.embed.search import hybrid_search
    except ImportError:
        return None
    result = hybrid_search(
        session,
        query,
        encoder=encoder,
        index=index,
        topic_id=topic_id,
        date_from=filters.date_from,
        date_to=filters.date_to,
        category=filters.category,
        limit=limit,
        offset=offset,
    )
    ids = [hit.paper_id for hit in result.hits]
    cards = cards_by_ids(session, ids)
    scores = {hit.paper_id: float(hit.score) for hit in result.hits}
    ranked = [replace(card, score=scores.get(card.id), rank=offset + i + 1) for i, card in enumerate(cards)]
    return SearchOutcome(query, ranked, int(result.total), "hybrid", offset, limit)


def similar(
    session: Session, paper_id: int, *, index: Any, model_name: str | None, limit: int = 8
) -> list[PaperCard] | None:
    """Papers nearest in meaning, or None when no index is loaded (the page hides the section)."""
    if index is None or not model_name:
        return None
    try:
        from app.embed.search import similar_papers
    except ImportError:
        return None
    try:
        pairs = similar_papers(session, paper_id, index=index, model_name=model_name, limit=limit)
    except (LookupError, ValueError) as exc:  # e.g. the paper has no vector yet
        log.info("no similar papers for %s: %s", paper_id, exc)
        return []
    scores = {pid: float(score) for pid, score in pairs}
    cards = cards_by_ids(session, [pid for pid, _ in pairs])
    return [replace(c, score=scores.get(c.id)) for c in cards]
