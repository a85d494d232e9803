"""arXiv RSS client (rss.arxiv.org/rss/{cat+cat}): the day's announcements, through the shared limiter."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import httpx

from app.ingest.parse.arxiv_rss import parse_rss_feed
from app.ingest.parse.common import Parsed, ParseError
from app.ingest.sources.http import ArxivLimiter, Fetcher, SourceError, build_fetcher

if TYPE_CHECKING:
    from app.config import Settings

PAGE_ATTEMPTS = 3


class ArxivRssClient:
    def __init__(self, fetcher: Fetcher, base_url: str) -> None:
        self.fetcher = fetcher
        self.base_url = base_url

    @classmethod
    def from_settings(
        cls,
        settings: Settings,
        transport: httpx.BaseTransport | None = None,
        *,
        limiter: ArxivLimiter | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> ArxivRssClient:
        return cls(
            build_fetcher(settings, transport, arxiv=True, limiter=limiter, sleep=sleep),
            settings.arxiv_rss_url,
        )

    @property
    def requests(self) -> int:
        return self.fetcher.requests

    def close(self) -> None:
        self.fetcher.close()

    def feed(self, categories: Sequence[str]) -> Parsed:
        """Today's feed for the categories (joined with '+', as arXiv expects)."""
        url = f"{self.base_url}/{'+'.join(categories)}"
        problem = ""
        for _ in range(PAGE_ATTEMPTS):
            response = self.fetcher.get(url)
            if response.status_code >= 400:
                raise SourceError(f"HTTP {response.status_code} from the arXiv RSS feed {url}")
            try:
                return parse_rss_feed(response.content)
            except ParseError as exc:
                problem = str(exc)
        raise SourceError(f"arXiv RSS sent {PAGE_ATTEMPTS} unreadable feeds ({problem})")
