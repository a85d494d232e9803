"""Hugging Face Daily Papers (`/api/daily_papers`): the client (by day, ISO week or month, paged)
and the run (every day since the watermark, plus a refresh window because upvotes move).

HF is not arXiv: it has its own rate limit (500 requests per 5 minutes anonymous) and does
not go through the arXiv limiter; a 429 is retried after its `Retry-After`.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import suppress
from datetime import UTC, date, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.ingest.bookkeeping import get_watermark, set_watermark
from app.ingest.parse.common import Parsed
from app.ingest.parse.hf_daily import parse_hf_response
from app.ingest.report import IngestReport
from app.ingest.sources.base import SourceRun, upsert_parsed
from app.ingest.sources.http import SourceClient, SourceError

HF_MAX_DAYS = 31
PAGE_LIMIT = 100  # the API's maximum
MAX_PAGES = 20
PAGE_ATTEMPTS = 2


class HfDailyClient(SourceClient):
    url_setting = "hf_api_url"
    arxiv = False
    redirect_hosts = frozenset({"huggingface.co"})

    def _page(self, params: dict[str, str | int]) -> Parsed:
        url = f"{self.base_url}/daily_papers"
        return self.get_parsed(
            url, parse_hf_response, upstream="Hugging Face", attempts=PAGE_ATTEMPTS, params=dict(params)
        )

    def daily_papers(
        self,
        *,
        day: date | None = None,
        week: str | None = None,
        month: str | None = None,
        sort: str | None = None,
        limit: int = PAGE_LIMIT,
        max_pages: int = MAX_PAGES,
    ) -> Iterator[Parsed]:
        """Pages of daily papers for one day (or ISO week `2025-W07`, or month `2025-02`)."""
        params: dict[str, str | int] = {"limit": limit}
        if day:
            params["date"] = day.isoformat()
        if week:
            params["week"] = week
        if month:
            params["month"] = month
        if sort:
            params["sort"] = sort
        for page_number in range(max_pages):
            params["p"] = page_number
            page = self._page(params)
            yield page
            if len(page.records) + len(page.errors) < limit:
                return


def hf_days(watermark: str | None, today: date, refresh_days: int) -> list[date]:
    """Days to fetch: every day since the watermark, plus the last `refresh_days` (upvotes move)."""
    first = today - timedelta(days=refresh_days)
    if watermark:
        with suppress(ValueError):  # an unreadable watermark: the refresh window only
            first = min(first, date.fromisoformat(watermark[:10]))
    first = max(first, today - timedelta(days=HF_MAX_DAYS))
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]


def run(session: Session, client: HfDailyClient, job: SourceRun) -> IngestReport:
    """Daily Papers of each day since the watermark and of the refresh window (or one week/month).

    Options (`papertrend ingest hf`): `days` (a list of dates), `week`, `month`, `refresh_days`.
    Only a run over the default window moves the watermark.
    """
    watermark = get_watermark(session, "hf_daily")
    refresh_days = job.options.get("refresh_days", job.settings.hf_refresh_days)
    days: Sequence[date] | None = job.options.get("days")
    week, month = job.options.get("week"), job.options.get("month")
    report = IngestReport(source="hf_daily")
    report.watermark = watermark
    today = job.now.astimezone(UTC).date()
    if week or month:
        plan: list[dict[str, Any]] = [{"week": week, "month": month}]
    else:
        plan = [{"day": d} for d in (days or hf_days(watermark, today, refresh_days))]
    try:
        for query in plan:
            for page in client.daily_papers(**query):
                upsert_parsed(session, page, report)
    except SourceError as exc:
        report.fail(str(exc))
    report.requests = client.requests
    if not report.failed and not (week or month or days):
        report.watermark = today.isoformat()
        set_watermark(session, "hf_daily", report.watermark)
    return report
