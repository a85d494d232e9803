"""Running live sources: one transaction and one JobRun per source, failures contained.

`run_source` builds the source's client from settings, runs its service function, records
a JobRun with the counts in the same transaction as the data (so the watermark and the
papers commit together) and logs one line. A source that fails (network unreachable,
upstream errors after retries) logs ONE clear line naming the source and the reason,
records a failed JobRun, and `run_all_sources` goes on with the next source.

Unless a limiter is given (tests pass one with a fake clock), arXiv sources use the process's
shared limiter held against the other worker processes of the same database
(`sources.shared_limiter.arxiv_limiter`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.ingest import live
from app.ingest.bookkeeping import LIVE_SOURCES, get_watermark, record_run, set_watermark
from app.ingest.report import IngestReport
from app.ingest.sources.arxiv_api import MAX_PER_QUERY, ArxivApiClient
from app.ingest.sources.arxiv_oai import ArxivOaiClient
from app.ingest.sources.arxiv_rss import ArxivRssClient
from app.ingest.sources.hf_daily import HfDailyClient
from app.ingest.sources.http import ArxivLimiter
from app.ingest.sources.shared_limiter import arxiv_limiter
from app.models._common import utcnow

log = logging.getLogger("papertrend.ingest")


@dataclass
class SourceRun:
    """What a runner needs besides the session: settings, time, adapters' knobs and options."""

    settings: Settings
    now: datetime
    checkpoint: Callable[[], None]
    transport: httpx.BaseTransport | None = None
    limiter: ArxivLimiter | None = None
    sleep: Callable[[float], None] = time.sleep
    options: dict[str, Any] = field(default_factory=dict)
    progress: Callable[[int], None] | None = None


def _categories(run: SourceRun) -> list[str]:
    return list(run.options.get("categories") or run.settings.categories)


def _run_arxiv_api(session: Session, run: SourceRun) -> IngestReport:
    client = ArxivApiClient.from_settings(run.settings, run.transport, limiter=run.limiter, sleep=run.sleep)
    try:
        since = run.options.get("since")
        return live.ingest_arxiv_api(
            session,
            client,
            categories=_categories(run),
            watermark=since.isoformat() if since else get_watermark(session, "arxiv_api"),
            now=run.now,
            lookback_days=run.settings.ingest_lookback_days,
            sort_by=run.options.get("sort_by", "lastUpdatedDate"),
            max_results=run.options.get("max_results", MAX_PER_QUERY),
        )
    finally:
        client.close()


def _run_arxiv_oai(session: Session, run: SourceRun) -> IngestReport:
    client = ArxivOaiClient.from_settings(run.settings, run.transport, limiter=run.limiter, sleep=run.sleep)
    backfill = run.options.get("backfill", False)
    state_key = "arxiv_oai_backfill" if backfill else "arxiv_oai"
    try:
        report = live.ingest_arxiv_oai(
            session,
            client,
            set_spec=run.options.get("set_spec") or run.settings.oai_set,
            metadata_prefix=run.options.get("metadata_prefix") or run.settings.oai_metadata_prefix,
            watermark=get_watermark(session, state_key),
            now=run.now,
            checkpoint=run.checkpoint,
            lookback_days=run.settings.ingest_lookback_days,
            from_date=run.options.get("from_date"),
            until=run.options.get("until"),
            state_key=state_key,
            progress=run.progress,
            max_pages=run.options.get("max_pages"),
        )
    finally:
        client.close()
    if backfill and report.watermark and not report.failed and get_watermark(session, "arxiv_oai") is None:
        # A finished open-ended backfill is where the daily harvest picks up.
        set_watermark(session, "arxiv_oai", report.watermark)
    return report


def _run_arxiv_rss(session: Session, run: SourceRun) -> IngestReport:
    client = ArxivRssClient.from_settings(run.settings, run.transport, limiter=run.limiter, sleep=run.sleep)
    try:
        return live.ingest_arxiv_rss(
            session, client, categories=_categories(run), watermark=get_watermark(session, "arxiv_rss")
        )
    finally:
        client.close()


def _run_hf_daily(session: Session, run: SourceRun) -> IngestReport:
    client = HfDailyClient.from_settings(run.settings, run.transport, sleep=run.sleep)
    try:
        return live.ingest_hf_daily(
            session,
            client,
            watermark=get_watermark(session, "hf_daily"),
            now=run.now,
            refresh_days=run.options.get("refresh_days", run.settings.hf_refresh_days),
            days=run.options.get("days"),
            week=run.options.get("week"),
            month=run.options.get("month"),
        )
    finally:
        client.close()


RUNNERS: dict[str, Callable[[Session, SourceRun], IngestReport]] = {
    "arxiv_rss": _run_arxiv_rss,
    "arxiv_api": _run_arxiv_api,
    "arxiv_oai": _run_arxiv_oai,
    "hf_daily": _run_hf_daily,
}


def run_source(
    session_factory: sessionmaker[Session],
    settings: Settings,
    name: str,
    *,
    now: datetime | None = None,
    dry_run: bool = False,
    transport: httpx.BaseTransport | None = None,
    limiter: ArxivLimiter | None = None,
    sleep: Callable[[float], None] = time.sleep,
    options: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> IngestReport:
    """Run one live source in its own transaction; never raises for a source failure."""
    if name not in RUNNERS:
        raise ValueError(f"unknown source {name!r}; known: {', '.join(LIVE_SOURCES)}")
    started_at = utcnow()
    clock = time.perf_counter()
    session = session_factory()

    def checkpoint() -> None:
        # Commits the pages fetched so far with their cursor (long harvests resume from here).
        if not dry_run:
            session.commit()

    try:
        if limiter is None:
            limiter = arxiv_limiter(settings)
        run = SourceRun(
            settings, now or started_at, checkpoint, transport, limiter, sleep, options or {}, progress
        )
        report = RUNNERS[name](session, run)
        report.duration_s = time.perf_counter() - clock
        report.dry_run = dry_run
        if dry_run:
            session.rollback()
        else:
            record_run(session, report, started_at=started_at)
            session.commit()
    except Exception as exc:  # a bug or a database error: contained like a network failure
        session.rollback()
        report = IngestReport(source=name, duration_s=time.perf_counter() - clock, dry_run=dry_run)
        report.fail(f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": "))
        if not dry_run:
            try:
                with session_scope(session_factory) as other:
                    record_run(other, report, started_at=started_at, error=report.errors[-1])
            except Exception as db_exc:  # the database itself is down: say so once, carry on
                log.error("ingest %s: could not record the failed run: %s", name, db_exc)
    finally:
        session.close()
    if report.failed:
        log.error("ingest %s failed: %s", name, report.errors[-1] if report.errors else "unknown error")
    else:
        log.info("ingest %s", report.summary())
    return report


def run_all_sources(
    session_factory: sessionmaker[Session],
    settings: Settings,
    *,
    now: datetime | None = None,
    transport: httpx.BaseTransport | None = None,
    limiter: ArxivLimiter | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[IngestReport]:
    """Every enabled live source in turn (INGEST_SOURCES), each in its own transaction."""
    return [
        run_source(
            session_factory, settings, name, now=now, transport=transport, limiter=limiter, sleep=sleep
        )
        for name in settings.ingest_sources.split()
    ]
