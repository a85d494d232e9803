"""Status facts: the last run of every job and source, upstream lag, counts, arXiv's calendar.

This is what answers "why no email today?": a failed job, a stale source, or simply a day
on which arXiv announces nothing.

The page and the API are public, so a failed job shows that it failed and when, never its
error text (which can name hosts, paths or data): that stays in the log and on /admin.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.browse.calendar import AnnouncementInfo, announcement_info
from app.browse.cards import visible_topic
from app.browse.trending import in_days, latest_day
from app.models import JobRun, Paper, SourceState, Subscriber, Topic
from app.models.statuses import SubscriberStatus

INTERNAL_PREFIX = "cache:"
PUBLIC_FAILURE = "Failed; the operator finds the details in the log and on /admin."


@dataclass(frozen=True)
class JobStatus:
    job: str
    status: str  # running | ok | failed
    started_at: datetime
    finished_at: datetime | None
    summary: str | None
    error: str | None  # the generic PUBLIC_FAILURE unless the caller asked for the details
    last_ok_at: datetime | None

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return max(0.0, (self.finished_at - self.started_at).total_seconds())


@dataclass(frozen=True)
class SourceStatus:
    source: str
    watermark: str | None
    updated_at: datetime | None
    resuming: bool  # an interrupted harvest left a resumption cursor


@dataclass(frozen=True)
class StatusFacts:
    now: datetime
    jobs: list[JobStatus]
    sources: list[SourceStatus]
    papers: int
    papers_last_7_days: int
    topics: int
    subscribers_confirmed: int
    subscribers_pending: int
    newest_paper_day: date | None
    newest_published_at: datetime | None
    last_ingest_ok_at: datetime | None
    announcement: AnnouncementInfo

    @property
    def lag_hours(self) -> float | None:
        """Hours since the newest paper we hold was published upstream."""
        if self.newest_published_at is None:
            return None
        return max(0.0, (self.now - self.newest_published_at).total_seconds() / 3600)

    @property
    def failing(self) -> list[JobStatus]:
        return [j for j in self.jobs if j.status == "failed"]


def job_statuses(session: Session, *, details: bool = False) -> list[JobStatus]:
    """The latest run of each job; `details` (operators only) keeps the recorded error text."""
    latest_ids = (
        select(func.max(JobRun.id)).where(~JobRun.job.startswith(INTERNAL_PREFIX)).group_by(JobRun.job)
    )
    runs = session.scalars(select(JobRun).where(JobRun.id.in_(latest_ids)).order_by(JobRun.job)).all()
    last_ok = dict(
        session.execute(
            select(JobRun.job, func.max(JobRun.finished_at)).where(JobRun.status == "ok").group_by(JobRun.job)
        ).all()
    )
    return [
        JobStatus(
            job=run.job,
            status=run.status,
            started_at=run.started_at,
            finished_at=run.finished_at,
            summary=str((run.stats or {}).get("summary") or "") or None,
            error=(run.error if details else PUBLIC_FAILURE) if run.status == "failed" else None,
            last_ok_at=last_ok.get(run.job),
        )
        for run in runs
    ]


def source_statuses(session: Session) -> list[SourceStatus]:
    rows = session.scalars(
        select(SourceState)
        .where(~SourceState.source.startswith(INTERNAL_PREFIX))
        .order_by(SourceState.source)
    ).all()
    return [SourceStatus(s.source, s.watermark, s.updated_at, bool(s.cursor)) for s in rows]


def status_facts(session: Session, *, now: datetime) -> StatusFacts:
    jobs = job_statuses(session)
    ingest_ok = [j.last_ok_at for j in jobs if "ingest" in j.job and j.last_ok_at is not None]
    subscribers = dict(
        session.execute(select(Subscriber.status, func.count()).group_by(Subscriber.status)).all()
    )
    today = now.date()
    return StatusFacts(
        now=now,
        jobs=jobs,
        sources=source_statuses(session),
        papers=int(session.scalar(select(func.count()).select_from(Paper)) or 0),
        papers_last_7_days=int(
            session.scalar(select(func.count(Paper.id)).where(in_days(today - timedelta(days=6), today))) or 0
        ),
        topics=int(session.scalar(select(func.count(Topic.id)).where(visible_topic())) or 0),
        subscribers_confirmed=int(subscribers.get(SubscriberStatus.CONFIRMED, 0)),
        subscribers_pending=int(subscribers.get(SubscriberStatus.PENDING, 0)),
        newest_paper_day=latest_day(session, today=today),
        newest_published_at=session.scalar(
            select(func.max(Paper.published_at)).where(Paper.published_at <= now)
        ),
        last_ingest_ok_at=max(ingest_ok) if ingest_ok else None,
        announcement=announcement_info(now),
    )
