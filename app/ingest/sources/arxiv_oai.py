"""arXiv OAI-PMH client (oaipmh.arxiv.org/oai): ListRecords by set and date, resumption tokens.

Every request goes through the shared arXiv limiter. OAI errors come back as OaiError
(with the protocol code) so the service can tell "nothing new" (`noRecordsMatch`) from an
expired token (`badResumptionToken`). A truncated page is fetched again before giving up.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from app.ingest.parse.arxiv_oai import OaiError, parse_oai_response
from app.ingest.parse.common import Parsed, ParseError
from app.ingest.sources.http import SourceClient, SourceError

if TYPE_CHECKING:
    pass

PAGE_ATTEMPTS = 3


class ArxivOaiClient(SourceClient):
    url_setting = "arxiv_oai_url"

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
