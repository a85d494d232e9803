"""Ingest bookkeeping: per-source watermarks and cursors, job-run rows, and the status view.

A watermark is written in the same transaction as the data it covers, so it only moves
once that data is committed. A cursor (OAI-PMH resumption state) is committed page by page
with the page's papers, so an interrupted harvest resumes where it stopped.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.ingest.report import IngestReport
from app.models import JobRun, SourceState
from app.models._common import utcnow

JOB_PREFIX = "ingest:"


def job_name(source: str) -> str:
    return JOB_PREFIX + source


def get_watermark(session: Session, source: str) -> str | None:
    state = session.get(SourceState, source)
    return state.watermark if state else None


def _state(session: Session, source: str) -> SourceState:
    state = session.get(SourceState, source)
    if state is None:
        state = SourceState(source=source)
        session.add(state)
    return state


def set_watermark(session: Session, source: str, watermark: str | None) -> None:
    state = _state(session, source)
    state.watermark = watermark
    state.updated_at = utcnow()
    session.flush()


def get_cursor(session: Session, source: str) -> dict[str, Any] | None:
    state = session.get(SourceState, source)
    if state is None or not state.cursor:
        return None
    try:
        value = json.loads(state.cursor)
    except ValueError:
        return None  # unreadable cursor: start over from the watermark
    return value if isinstance(value, dict) else None


def set_cursor(session: Session, source: str, cursor: dict[str, Any] | None) -> None:
    state = _state(session, source)
    state.cursor = json.dumps(cursor, sort_keys=True) if cursor is not None else None
    state.updated_at = utcnow()
    session.flush()


def record_run(
    session: Session,
    report: IngestReport,
    *,
    started_at: datetime,
    finished_at: datetime | None = None,
    error: str | None = None,
) -> JobRun:
    """One JobRun row with the report's counts; `error` (or the report's failure) marks it failed."""
    failure = error or (report.errors[-1] if report.failed and report.errors else None)
    run = JobRun(
        job=job_name(report.source),
        status="failed" if error else report.status,
        started_at=started_at,
        finished_at=finished_at or utcnow(),
        stats=report.as_stats(),
        error=failure,
    )
    session.add(run)
    session.flush()
    return run


@dataclass
class SourceStatus:
    source: str
    last_status: str | None
    last_finished: datetime | None
    last_ok: datetime | None
    last_summary: str
    watermark: str | None
    pending_cursor: bool

    def lag(self, now: datetime) -> timedelta | None:
        return now - self.last_ok if self.last_ok else None


def source_status(session: Session, sources: list[str]) -> list[SourceStatus]:
    """For each source: its last run, its last successful run, its watermark."""
    rows = []
    for source in sources:
        job = job_name(source)
        last = session.scalars(
            select(JobRun)
            .where(JobRun.job == job)
            .order_by(JobRun.started_at.desc(), JobRun.id.desc())
            .limit(1)
        ).first()
        last_ok = session.scalar(
            select(func.max(JobRun.finished_at)).where(JobRun.job == job, JobRun.status == "ok")
        )
        state = session.get(SourceState, source)
        summary = ""
        if last is not None:
            stats = last.stats or {}
            fetched, new, updated = (stats.get(k, 0) for k in ("fetched", "new", "updated"))
            summary = f"{fetched} fetched, {new} new, {updated} updated"
            if last.error:
                summary += f"; {last.error}"
        rows.append(
            SourceStatus(
                source=source,
                last_status=last.status if last else None,
                last_finished=last.finished_at if last else None,
                last_ok=last_ok,
                last_summary=summary,
                watermark=state.watermark if state else None,
                pending_cursor=bool(state and state.cursor),
            )
        )
    return rows


def recent_runs(session: Session, limit: int = 10) -> list[JobRun]:
    stmt = (
        select(JobRun)
        .where(JobRun.job.like(JOB_PREFIX + "%"))
        .order_by(JobRun.started_at.desc(), JobRun.id.desc())
        .limit(limit)
    )
    return list(session.scalars(stmt))


def format_lag(lag: timedelta | None) -> str:
    if lag is None:
        return "never"
    hours = lag.total_seconds() / 3600
    if hours < 1:
        return f"{int(lag.total_seconds() // 60)} min"
    if hours < 48:
        return f"{hours:.1f} h"
    return f"{hours / 24:.1f} days"
