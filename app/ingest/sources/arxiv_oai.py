"""arXiv OAI-PMH client (oaipmh.arxiv.org/oai): ListRecords by set and date, resumption tokens.

Every request goes through the shared arXiv limiter. OAI errors come back as OaiError
(with the protocol code) so the service can tell "nothing new" (`noRecordsMatch`) from an
expired token (`badResumptionToken`). A truncated page is fetched again before giving up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

import httpx

from app.ingest.parse.arxiv_oai import OaiError, parse_oai_response
from app.ingest.parse.common import Parsed, ParseError
from app.ingest.sources.http import ArxivLimiter, Fetcher, SourceError, build_fetcher

if TYPE_CHECKING:
    from app.config import Settings

PAGE_ATTEMPTS = 3


class ArxivOaiClient:
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
    ) -> ArxivOaiClient:
        return cls(
            build_fetcher(settings, transport, arxiv=True, limiter=limiter, sleep=sleep),
            settings.arxiv_oai_url,
        )

    @property
    def requests(self) -> int:
        return self.fetcher.requests

    def close(self) -> None:
        self.fetcher.close()

    def list_records(
        self,
        *,
        metadata_prefix: str = "arXiv",
        set_spec: str | None = None,
        from_date: date | None = None,
        until: date | None = None,
        token: str | None = None,
    ) -> Parsed:
        """One ListRecords page: the first of a harvest, or the one a resumption token points to."""
        params: dict[str, str] = {"verb": "ListRecords"}
        if token:
            params["resumptionToken"] = token  # exclusive: OAI-PMH forbids other arguments with it
        else:
            params["metadataPrefix"] = metadata_prefix
            if set_spec:
                params["set"] = set_spec
            if from_date:
                params["from"] = from_date.isoformat()
            if until:
                params["until"] = until.isoformat()
        problem = ""
        for _ in range(PAGE_ATTEMPTS):
            response = self.fetcher.get(self.base_url, params=params)
            try:
                parsed = parse_oai_response(response.content)
            except OaiError:
                raise
            except ParseError as exc:
                if response.status_code >= 400:
                    raise SourceError(f"HTTP {response.status_code} from the arXiv OAI-PMH server") from None
                problem = str(exc)
                continue
            return parsed
        raise SourceError(f"arXiv OAI-PMH sent {PAGE_ATTEMPTS} unreadable responses ({problem})")
