"""Hugging Face Daily Papers client (`/api/daily_papers`): by day, ISO week or month, paged.

HF is not arXiv: it has its own rate limit (500 requests per 5 minutes anonymous) and does
not go through the arXiv limiter; a 429 is retried after its `Retry-After`.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import TYPE_CHECKING

from app.ingest.parse.common import Parsed, ParseError
from app.ingest.parse.hf_daily import parse_hf_response
from app.ingest.sources.http import SourceClient, SourceError

if TYPE_CHECKING:
    pass

PAGE_LIMIT = 100  # the API's maximum
MAX_PAGES = 20
PAGE_ATTEMPTS = 2


class HfDailyClient(SourceClient):
    url_setting = "hf_api_url"
    arxiv = False
    redirect_hosts = frozenset({"huggingface.co"})

    def _page(self, params: dict[str, str | int]) -> Parsed:
        url = f"{self.base_url}/daily_papers"
        problem = ""
        for _ in range(PAGE_ATTEMPTS):
            response = self.fetcher.get(url, params=params)
            if response.status_code >= 400:
                raise SourceError(f"HTTP {response.status_code} from Hugging Face ({url})")
            try:
                return parse_hf_response(response.content)
            except ParseError as exc:
                problem = str(exc)
        raise SourceError(f"Hugging Face sent an unreadable response: {problem}")

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
