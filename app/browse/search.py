"""Search and similar papers for the site and the API, as cards.

Both come from `app.embed.search`: hybrid search fuses the vector index (meaning) with the
database's full-text search (words); without an encoder or index loaded (no index built
yet, or the model could not load) the same call answers from the words alone, and similar
papers are simply not offered. The site never fails for want of an index.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.browse.cards import visible_topic
from app.browse.inputs import clean, identifier
from app.browse.papers import cards_by_ids, category_condition
from app.browse.types import PaperCard
from app.embed.query_parse import MAX_PHRASE_WORDS, MAX_PHRASES, MAX_TERMS
from app.embed.search import hybrid_search, similar_papers
from app.models import Topic

log = logging.getLogger("papertrend.browse")

MAX_QUERY_CHARS = 300
MODES = ("hybrid", "keyword", "id")
# What a query may hold (app.embed.query_parse), for the page that says when some was left out.
QUERY_LIMITS = {"phrases": MAX_PHRASES, "phrase_words": MAX_PHRASE_WORDS, "terms": MAX_TERMS}


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
    mode: str  # hybrid (meaning + words) | keyword (words only) | id (the query named a paper)
    offset: int
    limit: int
    shortened: bool = False  # quoted phrases or words past the caps of app.embed.query_parse were left out


def _topic_id(session: Session, slug: str | None) -> int | None:
    if not slug:
        return None
    topic_id = session.scalar(select(Topic.id).where(Topic.slug == identifier(slug), visible_topic()))
    if topic_id is None:
        raise LookupError(f"no topic {slug!r}")
    return int(topic_id)


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
    """Papers for a query, best first. Raises LookupError (unknown topic), ValueError (bad category)."""
    filters = filters or SearchFilters()
    query = " ".join(clean(query).split())[:MAX_QUERY_CHARS]
    limit = max(1, min(limit, 100))
    offset = max(0, offset)
    if filters.category:
        category_condition(filters.category)  # validates before any search runs
    topic_id = _topic_id(session, filters.topic_slug)
    empty_range = bool(filters.date_from and filters.date_to and filters.date_from > filters.date_to)
    if not query or empty_range:  # a range that ends before it starts holds no papers, like /papers
        return SearchOutcome(query, [], 0, "keyword", offset, limit)
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
    scores = {hit.paper_id: float(hit.score) for hit in result.hits}
    cards = cards_by_ids(session, [hit.paper_id for hit in result.hits])
    ranked = [replace(card, score=scores.get(card.id), rank=offset + i + 1) for i, card in enumerate(cards)]
    mode = result.mode if result.mode in MODES else "keyword"
    return SearchOutcome(query, ranked, int(result.total), mode, offset, limit, result.query.shortened)


def similar(
    session: Session, paper_id: int, *, index: Any, model_name: str | None, limit: int = 8
) -> list[PaperCard] | None:
    """Papers nearest in meaning, or None when no index is loaded (the page hides the section)."""
    if index is None or not model_name:
        return None
    try:
        pairs = similar_papers(session, paper_id, index=index, model_name=model_name, limit=limit)
    except (LookupError, ValueError) as exc:  # e.g. the paper has no vector yet
        log.info("no similar papers for %s: %s", paper_id, exc)
        return []
    scores = {pid: float(score) for pid, score in pairs}
    cards = cards_by_ids(session, [pid for pid, _ in pairs])
    return [replace(c, score=scores.get(c.id)) for c in cards]
