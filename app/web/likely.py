"""The "Likely to trend" tab: a day's new papers by their chance of being picked up."""

from __future__ import annotations

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy.orm import Session

from app.browse.cache import cached
from app.browse.likely import likely
from app.config import Settings
from app.early.labels import LabelRule
from app.http import NowDep, SettingsDep
from app.web.forms import form_date
from app.web.templating import render

router = APIRouter(include_in_schema=False)


def label_key(settings: Settings) -> str:
    """The label this site predicts (EARLY_LABEL_UPVOTES), as stored with its models."""
    return LabelRule(min_upvotes=settings.early_label_upvotes).key


@router.get("/likely")
async def likely_page(
    request: Request,
    settings: SettingsDep,
    current: NowDep,
    date_text: str | None = Query(None, alias="date", max_length=20),
    page: int = Query(1, ge=1, le=10_000),
) -> Response:
    day = form_date(date_text, "date")
    key = label_key(settings)

    def build(session: Session) -> tuple[str, str]:
        result = likely(session, day=day, page=page, today=current.date(), label_key=key)
        return render(
            "pages/likely.html",
            section="trending",
            result=result,
            now=current,
            is_latest=day is None or day == result.latest_day,
            date_param=day.isoformat() if day else None,
        ), "text/html"

    return await cached(request, ("likely", day, page, key, current.date()), build)
