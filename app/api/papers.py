"""GET /papers (filters, cursor pages), /papers/{id}, /papers/{id}/similar."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app.api import convert, schemas
from app.api.common import ERROR_RESPONSES, IsoDate, add_preflight, cached_json
from app.browse.papers import CATEGORY_PATTERN, list_papers, paper_detail
from app.browse.search import similar
from app.http import SiteUrlDep, StateDep

router = APIRouter(tags=["papers"], responses=ERROR_RESPONSES)

PAPER_ID = Path(
    description="arXiv id (with or without version, old style `cs/0112017` too) or `source:source_id`.",
    max_length=220,
    examples=["2303.17951"],
)


@router.get("/papers", response_model=schemas.PaperPage, summary="List papers, newest first")
async def papers(
    request: Request,
    site: SiteUrlDep,
    topic: str | None = Query(None, max_length=120, description="Only papers of this topic (slug)."),
    category: str | None = Query(
        None,
        max_length=40,
        pattern=CATEGORY_PATTERN,
        description="arXiv category, e.g. `cs.LG`.",
        examples=["cs.LG"],
    ),
    date_from: IsoDate | None = Query(
        None, alias="from", description="Announced (or published) on or after."
    ),
    date_to: IsoDate | None = Query(None, alias="to", description="Announced (or published) on or before."),
    has_code: bool | None = Query(
        None, description="Only papers with (true) or without (false) a code link."
    ),
    cursor: str | None = Query(None, max_length=200, description="`next_cursor` of the previous page."),
    limit: int = Query(20, ge=1, le=100),
) -> Response:
    """Papers ordered by publication time, newest first, with filters; page through with `cursor`."""

    def build(session: Session) -> schemas.PaperPage:
        try:
            page = list_papers(
                session,
                topic_slug=topic or None,
                category=category or None,
                date_from=date_from,
                date_to=date_to,
                has_code=has_code,
                cursor=cursor or None,
                limit=limit,
            )
        except LookupError:
            raise HTTPException(404, f"No topic {topic}.") from None
        except ValueError as exc:
            raise HTTPException(422, f"{exc}.") from None
        return schemas.PaperPage(
            items=[convert.paper(c, site) for c in page.cards], next_cursor=page.next_cursor
        )

    return await cached_json(
        request, ("papers", topic, category, date_from, date_to, has_code, cursor, limit), build
    )


@router.get(
    "/papers/{paper_id:path}/similar",
    response_model=schemas.SimilarPapers,
    summary="Papers similar in meaning",
)
async def similar_papers(
    request: Request,
    site: SiteUrlDep,
    state: StateDep,
    paper_id: str = PAPER_ID,
    limit: int = Query(10, ge=1, le=50),
) -> Response:
    """Nearest papers by embedding. `available` is false when this server has no vector index loaded."""
    index, model_name = state.index, state.model_name

    def build(session: Session) -> schemas.SimilarPapers:
        detail = paper_detail(session, paper_id)
        if detail is None:
            raise HTTPException(404, f"No paper with the id {paper_id}.")
        found = similar(session, detail.card.id, index=index, model_name=model_name, limit=limit)
        items = [schemas.ScoredPaper(score=c.score, paper=convert.paper(c, site)) for c in found or []]
        return schemas.SimilarPapers(id=detail.card.public_id, available=found is not None, items=items)

    return await cached_json(request, ("similar", paper_id, limit, index is not None), build)


@router.get("/papers/{paper_id:path}", response_model=schemas.Paper, summary="One paper")
async def paper(request: Request, site: SiteUrlDep, paper_id: str = PAPER_ID) -> Response:

    def build(session: Session) -> schemas.Paper:
        detail = paper_detail(session, paper_id)
        if detail is None:
            raise HTTPException(404, f"No paper with the id {paper_id}.")
        card = detail.card
        full = convert.paper(card, site)
        full.topics = [convert.topic_ref(t) for t in detail.all_topics]
        return full

    return await cached_json(request, ("paper", paper_id), build)


add_preflight(router)
