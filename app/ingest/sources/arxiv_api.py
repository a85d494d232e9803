"""arXiv API (export.arxiv.org/api/query): the client (category searches page by page, id
look-ups) and the run (papers changed since the watermark, then metadata for papers that lack it).

Paging follows the API manual: at most 2,000 entries per call and 30,000 per query; every
call goes through the shared arXiv limiter. A page that comes back malformed (truncated) is
fetched again; one that comes back short before the end (the API sometimes does) is retried
before moving on. An error feed becomes a SourceError with arXiv's message.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from app.ingest.bookkeeping import get_watermark, set_watermark
from app.ingest.parse.arxiv_api import ApiErrorFeed, parse_api_feed
from app.ingest.parse.common import Parsed, ParseError
from app.ingest.queries import arxiv_ids_missing_metadata
from app.ingest.report import IngestReport
from app.ingest.sources.base import SourceRun, parse_watermark, upsert_parsed
from app.ingest.sources.http import Fetcher, SourceClient, SourceError

if TYPE_CHECKING:
    from app.config import Settings

MAX_PER_CALL = 2000
MAX_PER_QUERY = 30000
ID_BATCH = 100
PAGE_ATTEMPTS = 3
ENRICH_LIMIT = 200


def category_query(categories: Sequence[str]) -> str:
    return " OR ".join(f"cat:{c}" for c in categories)


class ArxivApiClient(SourceClient):
    """Talks to the arXiv API; `requests` counts HTTP calls."""

    url_setting = "arxiv_api_url"

    def __init__(self, fetcher: Fetcher, base_url: str, *, page_size: int = 500) -> None:
        super().__init__(fetcher, base_url)
        self.page_size = max(1, min(page_size, MAX_PER_CALL))

    def configure(self, settings: Settings) -> None:
        self.page_size = max(1, min(settings.arxiv_page_size, MAX_PER_CALL))

    def page(
        self,
        *,
        search_query: str | None = None,
        id_list: Sequence[str] | None = None,
        start: int = 0,
        max_results: int | None = None,
        sort_by: str | None = None,
        sort_order: str = "descending",
    ) -> Parsed:
        """One call; a malformed body is fetched again before giving up."""
        params: dict[str, str | int] = {"start": start, "max_results": max_results or self.page_size}
        if search_query:
            params["search_query"] = search_query
        if id_list:
            params["id_list"] = ",".join(id_list)
        if sort_by:
            params["sortBy"] = sort_by
            params["sortOrder"] = sort_order
        problem = ""
        for _ in range(PAGE_ATTEMPTS):
            response = self.fetcher.get(self.base_url, params=params)
            try:
                parsed = parse_api_feed(response.content)
            except ApiErrorFeed as exc:
                raise SourceError(f"{exc} (HTTP {response.status_code})") from None
            except ParseError as exc:
                if response.status_code >= 400:
                    raise SourceError(f"HTTP {response.status_code} from the arXiv API") from None
                problem = str(exc)
                continue
            if response.status_code >= 400:
                raise SourceError(f"HTTP {response.status_code} from the arXiv API")
            return parsed
        raise SourceError(f"arXiv API sent {PAGE_ATTEMPTS} unreadable responses ({problem})")

    def search(
        self,
        search_query: str,
        *,
        sort_by: str = "lastUpdatedDate",
        sort_order: str = "descending",
        max_total: int = MAX_PER_QUERY,
    ) -> Iterator[tuple[int, Parsed]]:
        """(start, page) for each page of a query, up to `max_total` entries (≤ 30,000)."""
        max_total = min(max_total, MAX_PER_QUERY)
        start = 0
        while start < max_total:
            size = min(self.page_size, max_total - start)
            fetch = partial(
                self.page,
                search_query=search_query,
                start=start,
                max_results=size,
                sort_by=sort_by,
                sort_order=sort_order,
            )
            page = fetch()
            total = min(page.total if page.total is not None else 0, max_total)
            got = len(page.records) + len(page.errors)
            retries = 0
            while got < min(size, total - start) and got == 0 and retries < PAGE_ATTEMPTS - 1:
                # The API now and then answers an empty page in the middle of a result set.
                retries += 1
                page = fetch()
                got = len(page.records) + len(page.errors)
            yield start, page
            if got == 0 or start + got >= total:
                return
            start += got

    def by_ids(self, ids: Sequence[str], *, batch: int = ID_BATCH) -> Iterator[Parsed]:
        """Look papers up by arXiv id, `batch` ids per call."""
        for i in range(0, len(ids), batch):
            chunk = list(ids[i : i + batch])
            yield self.page(id_list=chunk, max_results=len(chunk))


def run(session: Session, client: ArxivApiClient, job: SourceRun) -> IngestReport:
    """Papers of the categories changed since the watermark (newest first), then id look-ups
    for papers another source brought in without arXiv metadata.

    Options (`papertrend ingest arxiv`): `since` (a datetime instead of the watermark),
    `sort_by` (lastUpdatedDate or submittedDate), `max_results`, `categories`.
    """
    since_option: datetime | None = job.options.get("since")
    watermark = since_option.isoformat() if since_option else get_watermark(session, "arxiv_api")
    sort_by = job.options.get("sort_by", "lastUpdatedDate")
    max_results = job.options.get("max_results", MAX_PER_QUERY)
    report = IngestReport(source="arxiv_api")
    since = parse_watermark(watermark) or job.now - timedelta(days=job.settings.ingest_lookback_days)
    field = "updated_at_source" if sort_by == "lastUpdatedDate" else "published_at"
    newest: datetime | None = None
    try:
        for _start, page in client.search(
            category_query(job.categories), sort_by=sort_by, max_total=max_results
        ):
            upsert_parsed(session, page, report)
            stamps = [getattr(r, field) for r in page.records if getattr(r, field) is not None]
            if stamps:
                newest = max([newest, *stamps]) if newest else max(stamps)
            if stamps and min(stamps) < since:
                break  # sorted newest first: the rest is older than the watermark
        else:
            if report.fetched >= max_results:
                report.notes.append(f"stopped at the API's {max_results} results per query")
        _enrich(session, client, report, ENRICH_LIMIT)
    except SourceError as exc:
        report.fail(str(exc))
    report.requests = client.requests
    if not report.failed and newest is not None:
        report.watermark = max(newest, since).isoformat()
        set_watermark(session, "arxiv_api", report.watermark)
    else:
        report.watermark = watermark
    return report


def _enrich(session: Session, client: ArxivApiClient, report: IngestReport, limit: int) -> None:
    """Fill arXiv metadata (categories, dates, version) of papers that lack it, by id_list."""
    if limit <= 0:
        return
    ids = arxiv_ids_missing_metadata(session, limit)
    if not ids:
        return
    before = report.updated
    for page in client.by_ids(ids):
        upsert_parsed(session, page, report)
    report.notes.append(f"looked up {len(ids)} papers by id, {report.updated - before} completed")
