"""GET /trending, /search and /status."""

from __future__ import annotations

import time
from typing import Literal

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy.orm import Session

from app.api import convert, schemas
from app.api.common import ERROR_RESPONSES, IsoDate, add_preflight, cached_json
from app.browse.papers import CATEGORY_PATTERN
from app.browse.search import SearchFilters, search
from app.browse.status import status_facts
from app.browse.trending import trending
from app.http import NowDep, SiteUrlDep, StateDep

router = APIRouter(responses=ERROR_RESPONSES)


@router.get(
    "/trending", response_model=schemas.Trending, tags=["trending"], summary="Trending papers of a window"
)
async def trending_papers(
    request: Request,
    site: SiteUrlDep,
    now: NowDep,
    window: Literal["day", "week", "month"] = Query("day", description="Length of the window."),
    day: IsoDate | None = Query(
        None, alias="date", description="Last day of the window; default: the latest day."
    ),
    topic: str | None = Query(None, max_length=120, description="Only papers of this topic (slug)."),
    page: int = Query(1, ge=1, le=10_000),
    per_page: int = Query(20, ge=1, le=100),
) -> Response:
    """Papers ranked by trending score (its parts in `components`); newest first before any trends run."""

    def build(session: Session) -> schemas.Trending:
        try:
            result = trending(
                session,
                window=window,
                day=day,
                topic_slug=topic or None,
                page=page,
                per_page=per_page,
                today=now.date(),
                with_chips=False,
            )
        except LookupError:
            raise HTTPException(404, f"No topic {topic}.") from None
        return schemas.Trending(
            window=window,
            date=result.day,
            start=result.start,
            ranked=result.ranked,
            topic=result.topic.slug if result.topic else None,
            total=result.total,
            page=result.page,
            per_page=result.per_page,
            items=[
                schemas.TrendingItem(
                    rank=card.rank or 0,
                    score=card.score,
                    components=convert.score_parts(card.components),
                    paper=convert.paper(card, site),
                )
                for card in result.cards
            ],
        )

    return await cached_json(request, ("trending", window, day, topic, page, per_page, now.date()), build)


@router.get("/search", response_model=schemas.SearchResults, tags=["search"], summary="Search papers")
async def search_papers(
    request: Request,
    site: SiteUrlDep,
    state: StateDep,
    q: str = Query(
        min_length=1, max_length=300, description="Words or a description.", examples=["low-bit LLMs"]
    ),
    topic: str | None = Query(None, max_length=120),
    date_from: IsoDate | None = Query(None, alias="from"),
    date_to: IsoDate | None = Query(None, alias="to"),
    category: str | None = Query(None, max_length=40, pattern=CATEGORY_PATTERN, examples=["cs.CL"]),
    offset: int = Query(0, ge=0, le=1000),
    limit: int = Query(20, ge=1, le=100),
) -> Response:
    """Hybrid search (meaning + keywords) with the vector index loaded, else keyword search (`mode`)."""
    encoder, index = state.encoder, state.index
    query = " ".join(q.split())
    filters = SearchFilters(topic or None, date_from, date_to, (category or "").strip() or None)

    def build(session: Session) -> schemas.SearchResults:
        try:
            outcome = search(
                session, query, filters=filters, encoder=encoder, index=index, limit=limit, offset=offset
            )
        except LookupError:
            raise HTTPException(404, f"No topic {topic}.") from None
        except ValueError as exc:
            raise HTTPException(422, f"{exc}.") from None
        return schemas.SearchResults(
            query=outcome.query,
            mode=outcome.mode,
            total=outcome.total,
            offset=outcome.offset,
            limit=outcome.limit,
            items=[schemas.ScoredPaper(score=c.score, paper=convert.paper(c, site)) for c in outcome.cards],
        )

    key = ("search", query, filters, offset, limit, encoder is not None and index is not None)
    return await cached_json(request, key, build)


@router.get(
    "/status", response_model=schemas.Status, tags=["status"], summary="Jobs, sources, lag and counts"
)
async def status(request: Request, now: NowDep) -> Response:
    """What ran and when, the upstream lag, and whether today is an arXiv announcement day."""

    def build(session: Session) -> schemas.Status:
        return schemas.Status.model_validate(status_facts(session, now=now), from_attributes=True)

    return await cached_json(request, ("status", int(time.time() // 30)), build, ttl=30)


add_preflight(router)
