"""The SQL behind /metrics: fleet-wide figures read from the database at scrape time.

Each is one aggregate over an indexed column, so a scrape costs a few milliseconds.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.ingest.bookkeeping import JOB_PREFIX
from app.models import Delivery, JobRun
from app.models.statuses import DeliveryStatus

FINISHED = ("ok", "failed")


def last_ingest_success(session: Session) -> dict[str, datetime]:
    """Source name -> when its last successful ingest run finished."""
    rows = session.execute(
        select(JobRun.job, func.max(JobRun.finished_at))
        .where(JobRun.job.like(f"{JOB_PREFIX}%"), JobRun.status == "ok")
        .group_by(JobRun.job)
    ).all()
    return {job.removeprefix(JOB_PREFIX): finished for job, finished in rows if finished is not None}


def job_runs(session: Session) -> list[tuple[str, str, int, float]]:
    """(job, outcome, runs, total seconds) of every finished run, by job and outcome."""
    rows = session.execute(
        select(JobRun.job, JobRun.status, JobRun.started_at, JobRun.finished_at).where(
            JobRun.status.in_(FINISHED), JobRun.finished_at.is_not(None)
        )
    )
    totals: dict[tuple[str, str], tuple[int, float]] = {}
    for job, status, started, finished in rows:
        if started is None or finished is None:
            continue
        count, seconds = totals.get((job, status), (0, 0.0))
        totals[(job, status)] = (count + 1, seconds + max(0.0, (finished - started).total_seconds()))
    return [(job, status, count, seconds) for (job, status), (count, seconds) in sorted(totals.items())]


def running_jobs(session: Session) -> dict[str, int]:
    rows = session.execute(
        select(JobRun.job, func.count()).where(JobRun.status == "running").group_by(JobRun.job)
    ).all()
    return {job: int(count) for job, count in rows}


def deliveries_by_status(session: Session) -> dict[str, int]:
    rows = session.execute(select(Delivery.status, func.count()).group_by(Delivery.status)).all()
    counts = {str(status): 0 for status in DeliveryStatus}
    counts.update({str(status): int(count) for status, count in rows})
    return counts


def emails_sent(session: Session) -> int:
    """Every email the relay accepted (digests and confirmations), ever: a counter."""
    return int(session.scalar(select(func.count()).where(Delivery.sent_at.is_not(None))) or 0)


def task_queue_depth(session: Session) -> dict[tuple[str, str], int] | None:
    """(queue, status) -> jobs waiting or running in the PostgreSQL task queue; None without one.

    The table belongs to the task queue library and exists only where its schema was applied
    (PostgreSQL), so its presence is asked first rather than assumed.
    """
    if session.get_bind().dialect.name != "postgresql":
        return None
    if session.scalar(text("SELECT to_regclass('procrastinate_jobs') IS NOT NULL")) is not True:
        return None
    rows = session.execute(
        text(
            "SELECT queue_name, status::text, count(*) FROM procrastinate_jobs "
            "WHERE status::text IN ('todo', 'doing') GROUP BY queue_name, status"
        )
    ).all()
    return {(str(queue), str(status)): int(count) for queue, status, count in rows}
