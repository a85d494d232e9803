"""arXiv OAI-PMH (oaipmh.arxiv.org/oai): the client (ListRecords by set and date, resumption
tokens) and the run (a harvest committed page by page, resumable; also the backfill).

Every request goes through the shared arXiv limiter. OAI errors come back as OaiError
(with the protocol code) so the run can tell "nothing new" (`noRecordsMatch`) from an
expired token (`badResumptionToken`). A truncated page is fetched again before giving up.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from app.ingest.bookkeeping import get_cursor, get_watermark, set_cursor, set_watermark
from app.ingest.parse.arxiv_oai import OaiError, parse_oai_response
from app.ingest.parse.common import Parsed, ParseError
from app.ingest.queries import mark_withdrawn
from app.ingest.report import IngestReport
from app.ingest.sources.base import SourceRun, upsert_parsed
from app.ingest.sources.http import SourceClient, SourceError

BACKFILL_STATE = "arxiv_oai_backfill"  # the backfill keeps its own watermark and cursor

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


def run(session: Session, client: ArxivOaiClient, job: SourceRun) -> IngestReport:
    """The daily harvest, or with the `backfill` option a harvest from `from_date` on its own cursor.

    Options (`papertrend ingest oai|backfill`): `from_date`, `until`, `set_spec`,
    `metadata_prefix`, `backfill`, `max_pages`. A finished open-ended backfill is where the
    daily harvest picks up when it has never run.
    """
    backfill = job.options.get("backfill", False)
    state_key = BACKFILL_STATE if backfill else "arxiv_oai"
    report = harvest(
        session,
        client,
        set_spec=job.options.get("set_spec") or job.settings.oai_set,
        metadata_prefix=job.options.get("metadata_prefix") or job.settings.oai_metadata_prefix,
        watermark=get_watermark(session, state_key),
        now=job.now,
        checkpoint=job.checkpoint,
        lookback_days=job.settings.ingest_lookback_days,
        from_date=job.options.get("from_date"),
        until=job.options.get("until"),
        state_key=state_key,
        progress=job.progress,
        max_pages=job.options.get("max_pages"),
    )
    if backfill and report.watermark and not report.failed and get_watermark(session, "arxiv_oai") is None:
        set_watermark(session, "arxiv_oai", report.watermark)
    return report


def harvest(
    session: Session,
    client: ArxivOaiClient,
    *,
    set_spec: str,
    metadata_prefix: str,
    watermark: str | None,
    now: datetime,
    checkpoint: Callable[[], None],
    lookback_days: int = 3,
    from_date: date | None = None,
    until: date | None = None,
    state_key: str = "arxiv_oai",
    progress: Callable[[int], None] | None = None,
    max_pages: int | None = None,
) -> IngestReport:
    """Harvest ListRecords from `from_date` (default: the watermark) to the end of the list.

    Each page is upserted and its resumption token saved, then `checkpoint()` commits both:
    an interrupted harvest resumes at the next page. `noRecordsMatch` means nothing new;
    `badResumptionToken` (tokens expire daily) restarts from the harvest's start date.
    """
    report = IngestReport(source=state_key)
    start = from_date or (
        date.fromisoformat(watermark) if watermark else (now - timedelta(days=lookback_days)).date()
    )
    wanted = {"from": start.isoformat(), "until": until.isoformat() if until else None, "set": set_spec}
    wanted["prefix"] = metadata_prefix
    cursor = get_cursor(session, state_key)
    token: str | None = None
    harvest_date = now.date().isoformat()
    if cursor and all(cursor.get(k) == v for k, v in wanted.items()) and cursor.get("token"):
        token = cursor["token"]
        harvest_date = cursor.get("harvest_date") or harvest_date
        report.notes.append(f"resumed an interrupted harvest at page {cursor.get('pages', 0) + 1}")
    pages = cursor.get("pages", 0) if token and cursor else 0
    restarted, done = False, False
    try:
        while max_pages is None or pages < max_pages:
            try:
                page = client.list_records(
                    metadata_prefix=metadata_prefix,
                    set_spec=set_spec,
                    from_date=start,
                    until=until,
                    token=token,
                )
            except OaiError as exc:
                if exc.code == "noRecordsMatch":
                    report.notes.append(f"nothing new since {start}")
                    done = True
                    break
                if exc.code == "badResumptionToken" and token and not restarted:
                    report.notes.append(f"resumption token expired; harvest restarted from {start}")
                    token, restarted, pages = None, True, 0
                    continue
                raise SourceError(str(exc)) from None
            upsert_parsed(session, page, report)
            report.updated += mark_withdrawn(session, page.deleted)
            pages += 1
            token = page.token
            set_cursor(
                session, state_key, {**wanted, "token": token, "pages": pages, "harvest_date": harvest_date}
            )
            checkpoint()
            if progress is not None:
                progress(len(page.records) + len(page.errors))
            if not token:
                done = True
                break
    except SourceError as exc:
        report.fail(str(exc))
    report.requests = client.requests
    report.watermark = watermark
    if done:
        set_cursor(session, state_key, None)
        if until is None:
            report.watermark = max(harvest_date, watermark or "")
            set_watermark(session, state_key, report.watermark)
    elif not report.failed:
        report.notes.append(f"paused after {pages} pages; the next run continues")
    return report
