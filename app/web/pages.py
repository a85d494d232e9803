"""The browsing pages: trending, a paper, the topic list and a topic. Served through the cache."""

from __future__ import annotations

from dataclasses import replace
from typing import Literal

from fastapi import APIRouter, HTTPException, Path, Query, Request, Response
from sqlalchemy.orm import Session

from app.browse.cache import CachedResponse, cached, make_etag
from app.browse.cards import find_paper
from app.browse.papers import paper_detail
from app.browse.search import similar
from app.browse.topics import topic_detail, topic_list, topic_tree
from app.browse.trending import find_topic, trending
from app.browse.trends import moving_topics
from app.http import NowDep, SettingsDep, StateDep
from app.models import Topic
from app.models.statuses import TopicStatus
from app.web.forms import form_date
from app.web.templating import render

router = APIRouter(include_in_schema=False)

Window = Literal["day", "week", "month"]


@router.get("/")
async def trending_page(
    request: Request,
    now: NowDep,
    window: Window = "day",
    date_text: str | None = Query(None, alias="date", max_length=20),
    topic: str | None = Query(None, max_length=120),
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    day = form_date(date_text, "date")

    def build(session: Session) -> tuple[str, str]:
        try:
            result = trending(
                session, window=window, day=day, topic_slug=topic or None, page=page, today=now.date()
            )
        except LookupError:
            raise HTTPException(404, f"There is no topic called “{topic}”.") from None
        return render(
            "pages/trending.html",
            section="trending",
            result=result,
            moving=moving_topics(session),
            now=now,
            is_latest=day is None or day == result.latest_day,
            window_param=window if window != "day" else None,
            date_param=day.isoformat() if day else None,
            topic_param=topic or None,
        ), "text/html"

    return await cached(request, ("trending", window, day, topic or None, page, now.date()), build)


@router.get("/papers/{paper_id:path}")
async def paper_page(
    request: Request, now: NowDep, state: StateDep, paper_id: str = Path(max_length=220)
) -> Response:
    index, model_name = state.index, state.model_name

    def build(session: Session) -> tuple[str, str]:
        detail = paper_detail(session, paper_id)
        if detail is None:
            raise HTTPException(404, f"No paper with the id “{paper_id}” is known here.")
        paper = find_paper(session, paper_id)
        return render(
            "pages/paper.html",
            section="paper",
            detail=detail,
            similar=similar(session, detail.card.id, index=index, model_name=model_name),
            withdrawn=bool(paper and paper.withdrawn),
            now=now,
        ), "text/html"

    return await cached(request, ("paper", paper_id), build)


@router.get("/topics")
async def topics_page(
    request: Request,
    settings: SettingsDep,
    sort: Literal["momentum", "size", "name", "new"] = "momentum",
    kind: Literal["area", "subtopic", "technique"] | None = None,
) -> Response:
    """All topics: each area with its subtopics, then techniques; one kind alone as a flat list."""
    baseline_weeks = settings.trend_baseline_weeks

    def build(session: Session) -> tuple[str, str]:
        tree = topic_tree(session, sort=sort) if kind in (None, "area") else None
        if tree is not None and kind == "area":
            tree = replace(tree, techniques=[], unplaced=[])
        return render(
            "pages/topics.html",
            section="topics",
            tree=tree,
            topics=topic_list(session, sort=sort, kind=kind) if tree is None else [],
            sort=sort,
            kind=kind,
            baseline_weeks=baseline_weeks,
        ), "text/html"

    return await cached(request, ("topics", sort, kind), build)


@router.get("/topics/{slug}")
async def topic_page(
    request: Request, settings: SettingsDep, now: NowDep, slug: str = Path(max_length=120)
) -> Response:
    baseline_weeks = settings.trend_baseline_weeks

    def build(session: Session) -> tuple[str, str] | CachedResponse:
        target = _merged_target(session, slug)
        if target is not None:
            return CachedResponse(b"", "text/plain", make_etag(target.encode()), 301, {"Location": target})
        detail = topic_detail(session, slug, baseline_weeks=baseline_weeks)
        if detail is None:
            raise HTTPException(404, f"There is no topic called “{slug}”.")
        return render("pages/topic.html", section="topics", detail=detail, now=now), "text/html"

    return await cached(request, ("topic", slug), build)


def _merged_target(session: Session, slug: str) -> str | None:
    """A merged topic's old URL moves permanently to the topic it was merged into."""
    topic = find_topic(session, slug)
    if topic is None or topic.status != TopicStatus.MERGED or topic.merged_into_id is None:
        return None
    target = session.get(Topic, topic.merged_into_id)
    return f"/topics/{target.slug}" if target is not None and not target.hidden else None
