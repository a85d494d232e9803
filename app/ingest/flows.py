"""Running live sources: one transaction and one JobRun per source, failures contained.

The pipeline, the scheduler and the CLI all run a source through `run_source`: it looks the
source up in `app.ingest.registry`, builds its client from settings, calls its run (which
never commits), records a JobRun with the counts in the same transaction as the data (so
the watermark and the papers commit together) and logs one line. A source that fails
(network unreachable, upstream errors after retries) logs ONE clear line naming the source
and the reason, records a failed JobRun, and `run_all_sources` goes on with the next source.

Unless a limiter is given (tests pass one with a fake clock), arXiv sources use the process's
shared limiter held against the other worker processes of the same database
(`sources.shared_limiter.arxiv_limiter`).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import httpx
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.ingest import registry
from app.ingest.bookkeeping import record_run
from app.ingest.report import IngestReport
from app.ingest.sources.base import SourceRun
from app.ingest.sources.http import ArxivLimiter
from app.ingest.sources.shared_limiter import arxiv_limiter
from app.models._common import utcnow

log = logging.getLogger("papertrend.ingest")


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
    source = registry.get(name)  # an unknown name is a caller's mistake: ValueError
    started_at = utcnow()
    clock = time.perf_counter()
    session = session_factory()

    def checkpoint() -> None:
        # Commits the pages fetched so far with their cursor (long harvests resume from here).
        if not dry_run:
            session.commit()

    try:
        if limiter is None and source.client.arxiv:
            limiter = arxiv_limiter(settings)
        client = source.client.from_settings(settings, transport, limiter=limiter, sleep=sleep)
        try:
            job = SourceRun(settings, now or started_at, checkpoint, options or {}, progress)
            report = source.run(session, client, job)
        finally:
            client.close()
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
            session_factory, settings, source.name, now=now, transport=transport, limiter=limiter, sleep=sleep
        )
        for source in registry.enabled(settings)
    ]
