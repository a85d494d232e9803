"""Search, status, about and the API reference page."""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from sqlalchemy.orm import Session

from app.browse.cache import cached
from app.browse.likely import serving_card
from app.browse.search import QUERY_LIMITS, SearchFilters, search
from app.browse.status import status_facts
from app.browse.topics import all_topic_chips
from app.browse.trends import configured_trend_params
from app.digest.selection import Weights
from app.http import NowDep, SettingsDep, StateDep
from app.topics.trending import DEFAULT_WEIGHTS
from app.web.forms import form_date
from app.web.likely import label_key
from app.web.templating import render

router = APIRouter(include_in_schema=False)

PER_PAGE = 20
STATUS_SECONDS = 30


@router.get("/search")
async def search_page(
    request: Request,
    state: StateDep,
    q: str = Query("", max_length=300),
    topic: str | None = Query(None, max_length=120),
    from_: str | None = Query(None, alias="from", max_length=20),
    to: str | None = Query(None, max_length=20),
    category: str | None = Query(None, max_length=40),
    page: int = Query(1, ge=1, le=50),
) -> Response:
    query = " ".join(q.split())
    date_from, date_to = form_date(from_, "from"), form_date(to, "to")
    filters = SearchFilters(topic or None, date_from, date_to, (category or "").strip() or None)
    encoder, index = state.encoder, state.index

    def build(session: Session) -> tuple[str, str]:
        try:
            outcome = search(
                session,
                query,
                filters=filters,
                encoder=encoder,
                index=index,
                limit=PER_PAGE,
                offset=(page - 1) * PER_PAGE,
            )
        except LookupError:
            raise HTTPException(404, f"There is no topic called “{topic}”.") from None
        except ValueError as exc:
            raise HTTPException(422, str(exc)) from None
        return render(
            "pages/search.html",
            section="search",
            header_query=query,
            query=query,
            outcome=outcome,
            limits=QUERY_LIMITS,
            filters=filters,
            topics=all_topic_chips(session),
            page=page,
            pages=max(1, -(-outcome.total // PER_PAGE)),
            semantic_ready=encoder is not None and index is not None,
            params={
                "q": query,
                "topic": filters.topic_slug,
                "from": date_from.isoformat() if date_from else None,
                "to": date_to.isoformat() if date_to else None,
                "category": filters.category,
            },
        ), "text/html"

    key = ("search", query, filters, page, encoder is not None and index is not None)
    return await cached(request, key, build)


@router.get("/status")
async def status_page(request: Request, now: NowDep) -> Response:
    def build(session: Session) -> tuple[str, str]:
        facts = status_facts(session, now=now)
        return render("pages/status.html", section="status", facts=facts, now=now), "text/html"

    # A short slot in the key keeps "3 minutes ago" honest without rendering on every hit.
    return await cached(request, ("status", int(time.time() // STATUS_SECONDS)), build, ttl=STATUS_SECONDS)


@router.get("/about")
async def about_page(request: Request, settings: SettingsDep) -> Response:
    context: dict[str, Any] = {
        "section": "about",
        "weights": DEFAULT_WEIGHTS,
        "trend": configured_trend_params(settings),
        "digest": Weights(),
        "digest_max": settings.digest_max_papers,
        "categories": settings.arxiv_categories,
    }

    key = label_key(settings)

    def build(session: Session) -> tuple[str, str]:
        early = serving_card(session, key) if settings.early_trending else None
        return render("pages/about.html", early=early, **context), "text/html"

    return await cached(request, ("about", key), build)


@router.get("/api")
async def api_reference(request: Request) -> Response:
    """A readable, server-rendered reference of the JSON API, built from its OpenAPI schema."""
    schema = request.app.openapi()

    def build(_session: Session) -> tuple[str, str]:
        operations = []
        for path, methods in schema.get("paths", {}).items():
            for method, op in methods.items():
                if not path.startswith("/api/"):
                    continue
                operations.append({"path": path, "method": method.upper(), **op})
        return render(
            "pages/api.html", section="api", operations=operations, info=schema.get("info", {})
        ), "text/html"

    return await cached(request, ("api-reference",), build)
