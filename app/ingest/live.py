"""The live sources as services: arXiv API, OAI-PMH and RSS, Hugging Face Daily Papers.

Each takes the session, its client and plain values (watermark, categories, `now`) and
returns an IngestReport. A network or upstream failure does not raise: it is recorded on
the report (`failed`), what was fetched before it stays in the session, and the watermark
is left where it was so the next run covers the gap. Nothing here commits; the OAI harvest
calls `checkpoint()` after each page (the caller commits page and cursor together).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from app.ingest.bookkeeping import get_cursor, set_cursor, set_watermark
from app.ingest.parse.arxiv_oai import OaiError
from app.ingest.parse.common import Parsed
from app.ingest.queries import RawItem, upsert_items
from app.ingest.records import PaperRecord, fingerprint_value
from app.ingest.report import IngestReport
from app.ingest.sources.arxiv_api import MAX_PER_QUERY, ArxivApiClient, category_query
from app.ingest.sources.arxiv_oai import ArxivOaiClient
from app.ingest.sources.arxiv_rss import ArxivRssClient
from app.ingest.sources.hf_daily import HfDailyClient
from app.ingest.sources.http import SourceError
from app.models import Paper

ENRICH_LIMIT = 200
HF_MAX_DAYS = 31


def _same(record: PaperRecord) -> PaperRecord:
    return record


def upsert_parsed(session: Session, parsed: Parsed, report: IngestReport) -> None:
    """Upsert a parsed page; items that failed to parse count as fetched and skipped."""
    report.fetched += len(parsed.records) + len(parsed.errors)
    report.add_counts(new=0, updated=0, unchanged=0, errors=parsed.errors)
    items = [RawItem(r.source_id, r, fingerprint_value(r.source, r.raw)) for r in parsed.records]
    result = upsert_items(session, items, _same)
    report.add_counts(
        new=result.new, updated=result.updated, unchanged=result.unchanged, errors=result.errors
    )


def _parse_watermark(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed


# --- arXiv API ------------------------------------------------------------------------------


def ingest_arxiv_api(
    session: Session,
    client: ArxivApiClient,
    *,
    categories: Sequence[str],
    watermark: str | None,
    now: datetime,
    lookback_days: int = 3,
    sort_by: str = "lastUpdatedDate",
    max_results: int = MAX_PER_QUERY,
    enrich_limit: int = ENRICH_LIMIT,
) -> IngestReport:
    """Papers of the categories changed since the watermark (newest first), then id look-ups
    for papers another source brought in without arXiv metadata."""
    report = IngestReport(source="arxiv_api")
    since = _parse_watermark(watermark) or now - timedelta(days=lookback_days)
    field = "updated_at_source" if sort_by == "lastUpdatedDate" else "published_at"
    newest: datetime | None = None
    try:
        for _start, page in client.search(category_query(categories), sort_by=sort_by, max_total=max_results):
            upsert_parsed(session, page, report)
            stamps = [getattr(r, field) for r in page.records if getattr(r, field) is not None]
            if stamps:
                newest = max([newest, *stamps]) if newest else max(stamps)
            if stamps and min(stamps) < since:
                break  # sorted newest first: the rest is older than the watermark
        else:
            if report.fetched >= max_results:
                report.notes.append(f"stopped at the API's {max_results} results per query")
        _enrich(session, client, report, enrich_limit)
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
    ids = list(
        session.scalars(
            select(Paper.arxiv_id)
            .where(Paper.arxiv_id.is_not(None), Paper.primary_category.is_(None))
            .order_by(Paper.id.desc())
            .limit(limit)
        )
    )
    if not ids:
        return
    before = report.updated
    for page in client.by_ids([i for i in ids if i]):
        upsert_parsed(session, page, report)
    report.notes.append(f"looked up {len(ids)} papers by id, {report.updated - before} completed")


# --- OAI-PMH ----------------------------------------------------------------------------


def ingest_arxiv_oai(
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
            _mark_deleted(session, page.deleted, report)
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


def _mark_deleted(session: Session, ids: list[str], report: IngestReport) -> None:
    if ids:
        result: Any = session.execute(
            update(Paper).where(Paper.arxiv_id.in_(ids), Paper.withdrawn.is_(False)).values(withdrawn=True)
        )
        report.updated += result.rowcount or 0


# --- RSS --------------------------------------------------------------------------------------


def ingest_arxiv_rss(
    session: Session, client: ArxivRssClient, *, categories: Sequence[str], watermark: str | None
) -> IngestReport:
    """Today's announcements (new, cross-lists, replacements) of the categories."""
    report = IngestReport(source="arxiv_rss")
    report.watermark = watermark
    try:
        parsed = client.feed(categories)
    except SourceError as exc:
        report.fail(str(exc))
        report.requests = client.requests
        return report
    report.requests = client.requests
    upsert_parsed(session, parsed, report)
    kinds: dict[str, int] = {}
    for record in parsed.records:
        kind = str(record.raw.get("announce_type") or "unknown")
        kinds[kind] = kinds.get(kind, 0) + 1
    if not parsed.records and not parsed.errors:
        report.notes.append("empty feed: no announcements (weekend or arXiv holiday)")
    elif kinds:
        report.notes.append(", ".join(f"{n} {k}" for k, n in sorted(kinds.items())))
    if parsed.feed_date is not None:
        report.watermark = parsed.feed_date.isoformat()
        set_watermark(session, "arxiv_rss", report.watermark)
    return report


# --- Hugging Face -----------------------------------------------------------------------------


def hf_days(watermark: str | None, today: date, refresh_days: int) -> list[date]:
    """Days to fetch: every day since the watermark, plus the last `refresh_days` (upvotes move)."""
    first = today - timedelta(days=refresh_days)
    if watermark:
        with suppress(ValueError):  # an unreadable watermark: the refresh window only
            first = min(first, date.fromisoformat(watermark[:10]))
    first = max(first, today - timedelta(days=HF_MAX_DAYS))
    return [first + timedelta(days=n) for n in range((today - first).days + 1)]


def ingest_hf_daily(
    session: Session,
    client: HfDailyClient,
    *,
    watermark: str | None,
    now: datetime,
    refresh_days: int = 7,
    days: Sequence[date] | None = None,
    week: str | None = None,
    month: str | None = None,
) -> IngestReport:
    """Daily Papers of each day since the watermark and of the refresh window (or one week/month)."""
    report = IngestReport(source="hf_daily")
    report.watermark = watermark
    today = now.astimezone(UTC).date()
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
