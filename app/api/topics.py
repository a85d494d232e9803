"""GET /topics (all, one kind, or the subtopics of an area), /topics/{slug}, /topics/{slug}/series,
and /phrases (the title phrases whose share of papers moved, topic or not)."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app.api import convert, schemas
from app.api.common import ERROR_RESPONSES, add_preflight, cached_json
from app.browse.topics import topic_detail, topic_list, topic_series
from app.browse.trends import moving_phrases
from app.http import site_url, state_of

router = APIRouter(tags=["topics"], responses=ERROR_RESPONSES)

SLUG = Path(
    max_length=120, description="The topic's slug (stable across rebuilds).", examples=["quantization"]
)


def _baseline_weeks(request: Request) -> int:
    return state_of(request).settings.trend_baseline_weeks


@router.get(
    "/topics", response_model=schemas.TopicList, summary="Every topic with momentum and weekly counts"
)
async def topics(
    request: Request,
    sort: Literal["momentum", "size", "name", "new"] = Query("momentum"),
    kind: Literal["area", "subtopic", "technique"] | None = Query(
        None, description="Only research areas, subtopics (each inside one area) or techniques."
    ),
    parent: str | None = Query(
        None,
        max_length=120,
        description="Only the subtopics of this research area (its slug).",
        examples=["natural-language-processing"],
    ),
) -> Response:
    """Two levels: research areas and, inside each, subtopics (`parent` names a subtopic's area);
    techniques cut across areas. An area's size, papers and feed include its subtopics' papers."""

    def build(session: Session) -> schemas.TopicList:
        try:
            items = topic_list(session, sort=sort, kind=kind, parent=parent or None)
        except LookupError:
            raise HTTPException(404, f"No topic {parent}.") from None
        return schemas.TopicList(items=[convert.topic_summary(m) for m in items])

    return await cached_json(request, ("topics", sort, kind, parent or None), build)


@router.get(
    "/topics/{slug}/series", response_model=schemas.TopicSeries, summary="Papers per week vs baseline"
)
async def series(request: Request, slug: str = SLUG, weeks: int = Query(26, ge=1, le=156)) -> Response:
    """Weekly paper counts of a topic, oldest first, each with the mean of the weeks before it."""
    baseline_weeks = _baseline_weeks(request)

    def build(session: Session) -> schemas.TopicSeries:
        points = topic_series(session, slug, weeks=weeks, baseline_weeks=baseline_weeks)
        if points is None:
            raise HTTPException(404, f"No topic {slug}.")
        return schemas.TopicSeries(
            slug=slug, baseline_weeks=baseline_weeks, weeks=[convert.week(p) for p in points]
        )

    return await cached_json(request, ("series", slug, weeks), build)


@router.get("/topics/{slug}", response_model=schemas.TopicDetail, summary="One topic")
async def topic(request: Request, slug: str = SLUG) -> Response:
    site, baseline_weeks = site_url(request), _baseline_weeks(request)

    def build(session: Session) -> schemas.TopicDetail:
        detail = topic_detail(session, slug, baseline_weeks=baseline_weeks)
        if detail is None:
            raise HTTPException(404, f"No topic {slug}.")
        return schemas.TopicDetail(
            **convert.topic_facts(detail.topic, detail.parent, detail.size, detail.keywords),
            description=detail.description,
            first_seen=detail.first_seen,
            merged_into=detail.merged_into.slug if detail.merged_into else None,
            trend=detail.trend,
            subtopics=[convert.topic_summary(m) for m in detail.subtopics],
            weeks=[convert.week(p) for p in detail.weeks],
            top_papers=[convert.paper(c, site) for c in detail.top_papers],
            newest_papers=[convert.paper(c, site) for c in detail.newest_papers],
            related=[
                schemas.RelatedTopic(topic=convert.topic_ref(r), shared_papers=n) for r, n in detail.related
            ],
        )

    return await cached_json(request, ("topic", slug), build)


add_preflight(router)


@router.get(
    "/phrases", response_model=schemas.MovingPhraseList, summary="Title phrases whose share of papers moved"
)
async def phrases(request: Request, limit: int = Query(20, ge=1, le=200)) -> Response:
    """Emerging, rising and falling title phrases of the last trends run, what moved most first:
    the topics' test on the papers whose title writes each phrase, so a name that spreads before a
    topic holds it (or inside a broader topic) is seen too."""
    base = site_url(request)

    def build(session: Session) -> schemas.MovingPhraseList:
        return schemas.MovingPhraseList(
            items=[
                schemas.MovingPhrase(
                    label=p.label,
                    state=p.state,
                    momentum=round(p.momentum, 3),
                    explanation=p.explanation,
                    as_of=p.as_of,
                    search=f"{base}/search?" + urlencode({"q": '"' + p.label + '"'}),
                )
                for p in moving_phrases(session, limit=limit)
            ]
        )

    return await cached_json(request, ("phrases", limit), build)
