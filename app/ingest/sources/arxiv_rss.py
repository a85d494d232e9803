"""arXiv RSS client (rss.arxiv.org/rss/{cat+cat}): the day's announcements, through the shared limiter."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from app.ingest.parse.arxiv_rss import parse_rss_feed
from app.ingest.parse.common import Parsed, ParseError
from app.ingest.sources.http import SourceClient, SourceError

if TYPE_CHECKING:
    pass

PAGE_ATTEMPTS = 3


class ArxivRssClient(SourceClient):
    url_setting = "arxiv_rss_url"

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
