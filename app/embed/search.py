"""Hybrid search (meaning + words) and similar papers: service functions for the site, API and CLI.

Semantic hits come from the vector index (cosine to the encoded query), keyword hits from
SQLite FTS5 / PostgreSQL full-text search; reciprocal rank fusion merges them. Filters (topic,
date range, category) apply to both sides: the vector side over-fetches and filters in SQL, and
when a filter is selective it searches only the papers the filter keeps. Without an encoder or
index (the model could not load, no index yet) the same call answers from keywords alone.

The query box: an arXiv id (or abs/pdf URL) puts that paper first; "quoted phrases" must appear
in every result; a single word also matches words that begin with it; an empty query lists the
most recent papers that pass the filters.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Date, Select, Text, and_, cast, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from app.embed.encoder import Encoder, EncoderError
from app.embed.faiss_index import MAX_SELECTOR_IDS, VectorIndex
from app.embed.fulltext import keyword_search, matching_phrases
from app.embed.fusion import reciprocal_rank_fusion
from app.embed.query_parse import ParsedQuery, parse_query
from app.embed.service import load_vectors
from app.models.paper import Paper
from app.models.topic import PaperTopic

log = logging.getLogger("papertrend.search")

# Below this cosine a MiniLM neighbour of a short query is noise, not a match.
SEMANTIC_FLOOR = 0.2
MAX_CANDIDATES = 1000  # results that can be paged through
MAX_LIMIT = 100
MAX_OVERFETCH = 2_000
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()
_CATEGORY = re.compile(r"^[A-Za-z][A-Za-z-]*(\.[A-Za-z][A-Za-z-]*)?$")


@dataclass(frozen=True)
class SearchHit:
    paper_id: int
    score: float  # fused score in [0, 1]; 1.0 = first in every list (or the paper named by id)
    semantic_rank: int | None = None
    keyword_rank: int | None = None
    similarity: float | None = None  # cosine to the query when the vector side found the paper


@dataclass
class SearchResult:
    hits: list[SearchHit]
    total: int  # results available to page through (at most MAX_CANDIDATES plus papers named by id)
    mode: str  # "hybrid" | "keyword" | "recent" | "id"
    query: ParsedQuery = field(default_factory=lambda: parse_query(""))


def paper_day(session: Session) -> ColumnElement[Any]:
    """The paper's date: announcement day, else the UTC day it was published (for ordering)."""
    published: ColumnElement[Any]
    if session.get_bind().dialect.name == "postgresql":
        published = cast(func.timezone("UTC", Paper.published_at), Date)
    else:
        published = func.date(Paper.published_at)
    return type_coerce(func.coalesce(Paper.announced_date, published), Date)


def _day_range(first: date | None, last: date | None) -> ColumnElement[bool]:
    """The paper's date within [first, last], written so both date columns' indexes can serve it."""
    announced: list[ColumnElement[bool]] = []
    published: list[ColumnElement[bool]] = [Paper.announced_date.is_(None)]
    if first:
        announced.append(Paper.announced_date >= first)
        published.append(Paper.published_at >= datetime.combine(first, time.min, tzinfo=UTC))
    if last:
        announced.append(Paper.announced_date <= last)
        after = datetime.combine(last, time.min, tzinfo=UTC) + timedelta(days=1)
        published.append(Paper.published_at < after)
    return or_(and_(*announced), and_(*published))


def filter_conditions(
    session: Session,
    *,
    topic_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    category: str | None = None,
) -> list[ColumnElement[bool]]:
    """SQL conditions on `papers` for the search filters. Raises ValueError on a malformed filter."""
    conditions: list[ColumnElement[bool]] = []
    if topic_id is not None:
        conditions.append(Paper.id.in_(select(PaperTopic.paper_id).where(PaperTopic.topic_id == topic_id)))
    if date_from and date_to and date_from > date_to:
        raise ValueError(f"the start date {date_from} is after the end date {date_to}")
    if date_from or date_to:
        conditions.append(_day_range(date_from, date_to))
    if category:
        category = category.strip()
        if not _CATEGORY.match(category):
            raise ValueError(f"category must look like cs.LG or cs, not {category!r}")
        # Categories are a JSON list; its text form is the same on both databases: ["cs.LG", "cs.AI"].
        listed = cast(Paper.categories, Text)
        if "." in category:
            conditions.append(listed.like(f'%"{category}"%'))
        else:
            conditions.append(listed.like(f'%"{category}.%') | listed.like(f'%"{category}"%'))
    return conditions


def hybrid_search(
    session: Session,
    query: str,
    *,
    encoder: Encoder | None,
    index: VectorIndex | None,
    topic_id: int | None = None,
    date_from: date | None = None,
    date_to: date | None = None,
    category: str | None = None,
    limit: int = 20,
    offset: int = 0,
    min_similarity: float = SEMANTIC_FLOOR,
) -> SearchResult:
    """Papers for a query, best first, `limit` of them from `offset`. Raises ValueError on bad filters."""
    if limit < 1 or offset < 0:
        raise ValueError("limit must be at least 1 and offset at least 0")
    limit = min(limit, MAX_LIMIT)
    parsed = parse_query(query)
    conditions = filter_conditions(
        session, topic_id=topic_id, date_from=date_from, date_to=date_to, category=category
    )
    if parsed.is_empty:
        return _recent(session, parsed, conditions, limit, offset)
    named = _papers_by_arxiv_id(session, parsed.arxiv_ids)
    hits = [SearchHit(pid, 1.0) for pid in named]
    if not parsed.has_words:
        return SearchResult(hits[offset : offset + limit], len(hits), "id", parsed)

    # Candidates per side: two pages' worth (at least 50); fusion rarely lifts a paper from further down.
    fetch = min(MAX_CANDIDATES, max(50, 2 * (offset + limit)))
    # A topic alone is listed from its own index, without reading any paper row.
    only_topic = topic_id is not None and not (date_from or date_to or category)
    topic_papers = select(PaperTopic.paper_id).where(PaperTopic.topic_id == topic_id) if only_topic else None
    listing = topic_papers if topic_papers is not None else select(Paper.id).where(*conditions)
    semantic: list[tuple[int, float]] = []
    usable = _usable(encoder, index)
    # The model encodes the query while the database runs the keyword search (both free the GIL).
    pending = _encoder_pool().submit(_encode, encoder, parsed.text) if usable and parsed.text else None
    keyword = keyword_search(
        session, parsed, conditions=[] if only_topic else conditions, limit=fetch, within=topic_papers
    )
    vector = pending.result() if pending is not None else None
    usable = usable and (vector is not None or not parsed.text)
    if vector is not None and index is not None:
        narrow = topic_id is not None or date_from is not None or date_to is not None
        semantic = _semantic(
            session, index, vector, conditions, fetch, min_similarity, topic_id is not None, narrow, listing
        )
        if parsed.phrases:
            keep = matching_phrases(session, parsed, [pid for pid, _ in semantic])
            semantic = [(pid, s) for pid, s in semantic if pid in keep]
    fused = reciprocal_rank_fusion({"semantic": [p for p, _ in semantic], "keyword": [p for p, _ in keyword]})
    similarity = dict(semantic)
    seen = set(named)
    hits += [
        SearchHit(
            f.item,
            round(f.score, 6),
            f.ranks.get("semantic"),
            f.ranks.get("keyword"),
            similarity.get(f.item),
        )
        for f in fused
        if f.item not in seen
    ]
    page = hits[offset : offset + limit]
    # Vector hits come from the index, which may hold a paper deleted since it was saved.
    present = set(_first_passing(session, [h.paper_id for h in page], (), len(page)))
    gone = [h for h in page if h.paper_id not in present]
    if gone:
        page = [h for h in page if h.paper_id in present]
    return SearchResult(page, len(hits) - len(gone), "hybrid" if usable else "keyword", parsed)


def similar_papers(
    session: Session, paper_id: int, *, index: VectorIndex, model_name: str, limit: int = 10
) -> list[tuple[int, float]]:
    """(paper id, cosine) of the papers nearest in meaning, best first, the paper itself left out.

    Raises LookupError when the paper has no vector for `model_name` (not embedded yet).
    """
    ids, vectors = load_vectors(session, model_name, [paper_id])
    if not ids:
        raise LookupError(f"paper {paper_id} has no {model_name} vector yet")
    if vectors.shape[1] != index.dim:
        raise ValueError(f"index holds {index.dim}-d vectors, {model_name} gives {vectors.shape[1]}")
    if index.ntotal == 0 or limit < 1:
        return []
    scores, found = index.search(vectors, min(index.ntotal, limit + 10))
    pairs = [(int(i), float(s)) for s, i in zip(scores[0], found[0], strict=True) if i >= 0 and i != paper_id]
    existing = set(_first_passing(session, [p for p, _ in pairs], (), limit))
    return [p for p in pairs if p[0] in existing][:limit]


def _usable(encoder: Encoder | None, index: VectorIndex | None) -> bool:
    if encoder is None or index is None or index.ntotal == 0:
        return False
    try:
        dim = encoder.dim  # may load the model
    except EncoderError as exc:
        log.warning("search: the embedding model cannot be used (%s); keywords only", exc)
        return False
    if encoder.model_name != index.model_name or dim != index.dim:
        log.warning(
            "search: encoder %s (%d-d) does not match index %s (%d-d); keywords only",
            encoder.model_name,
            dim,
            index.model_name,
            index.dim,
        )
        return False
    return True


def _encoder_pool() -> ThreadPoolExecutor:
    global _POOL
    if _POOL is None:
        with _POOL_LOCK:
            if _POOL is None:
                _POOL = ThreadPoolExecutor(max_workers=4, thread_name_prefix="query-encode")
    return _POOL


def _encode(encoder: Encoder | None, text: str) -> np.ndarray | None:
    """The query vector, or None when the model fails (it loads lazily): the search goes on by keywords."""
    if encoder is None:
        return None
    try:
        return encoder.encode([text])
    except EncoderError as exc:
        log.warning("search: the embedding model failed (%s); keywords only", exc)
        return None


def _semantic(
    session: Session,
    index: VectorIndex,
    vector: np.ndarray,
    conditions: Sequence[ColumnElement[bool]],
    fetch: int,
    floor: float,
    selective: bool,
    indexed: bool,
    listing: Select[Any],
) -> list[tuple[int, float]]:
    """Nearest papers above `floor` that pass the filters, best first (at most `fetch`).

    Unfiltered: the index's nearest (whether they still exist is checked on the page shown).
    Filtered: the nearest MAX_OVERFETCH are checked in SQL in order, stopping at `fetch`. Only when
    fewer than half of `fetch` pass (a narrow filter) and an index can list the filter's papers
    (dates), and always for a topic, the search is restricted to the papers the filters keep.
    """
    kept: list[tuple[int, float]] = []
    if not selective:
        over = min(index.ntotal, MAX_OVERFETCH if conditions else fetch)
        scores, ids = index.search(vector, over)
        pairs = [(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0 and s >= floor]
        if not conditions:
            return pairs[:fetch]
        score = dict(pairs)
        kept = [
            (pid, score[pid]) for pid in _first_passing(session, [p for p, _ in pairs], conditions, fetch)
        ]
        if len(kept) >= fetch // 2 or len(pairs) < over or not indexed:
            # A category alone has no index: listing its papers would read the whole table.
            return kept
    allowed = _allowed_ids(session, listing)
    if allowed is None:  # the filter keeps too many papers for a selector; settle for the over-fetch
        return kept[:fetch]
    if not allowed:
        return []
    scores, ids = index.search(vector, min(fetch, len(allowed)), allowed_ids=allowed)
    return [(int(i), float(s)) for s, i in zip(scores[0], ids[0], strict=True) if i >= 0 and s >= floor]


def _first_passing(
    session: Session, ids: Sequence[int], conditions: Sequence[ColumnElement[bool]], limit: int
) -> list[int]:
    """The first `limit` of `ids` (in their order) that are papers passing the conditions.

    On SQLite the ids go in as one JSON array walked in order, so the lookups stop at `limit`:
    each costs a page read of a wide row (~35 µs at a million papers).
    """
    if not ids or limit < 1:
        return []
    if session.get_bind().dialect.name == "sqlite":
        listed = func.json_each(json.dumps(list(ids))).table_valued("key", "value")
        stmt = (
            select(listed.c.key, listed.c.value)
            .join(Paper, Paper.id == listed.c.value)
            .where(*conditions)
            .limit(limit)
        )
        return [int(v) for _, v in sorted(session.execute(stmt).all())]
    passing = set(session.execute(select(Paper.id).where(Paper.id.in_(list(ids)), *conditions)).scalars())
    return [pid for pid in ids if pid in passing][:limit]


def _allowed_ids(session: Session, listing: Select[Any]) -> list[int] | None:
    rows = session.execute(listing.limit(MAX_SELECTOR_IDS + 1)).scalars().all()
    return None if len(rows) > MAX_SELECTOR_IDS else [int(r) for r in rows]


def _papers_by_arxiv_id(session: Session, arxiv_ids: Sequence[str]) -> list[int]:
    if not arxiv_ids:
        return []
    found = dict(
        session.execute(select(Paper.arxiv_id, Paper.id).where(Paper.arxiv_id.in_(list(arxiv_ids)))).all()
    )
    return [int(found[a]) for a in arxiv_ids if a in found]


def _recent(
    session: Session, parsed: ParsedQuery, conditions: Sequence[ColumnElement[bool]], limit: int, offset: int
) -> SearchResult:
    day = paper_day(session)
    stmt = (
        select(Paper.id)
        .where(*conditions)
        .order_by(day.desc().nulls_last(), Paper.id.desc())
        .offset(offset)
        .limit(limit)
    )
    ids = [int(pid) for pid in session.execute(stmt).scalars()]
    total = int(session.execute(select(func.count()).select_from(Paper).where(*conditions)).scalar_one())
    return SearchResult([SearchHit(pid, 0.0) for pid in ids], total, "recent", parsed)
