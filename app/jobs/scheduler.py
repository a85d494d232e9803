"""The scheduler adapter (APScheduler 3): cron jobs that call the pipeline's steps.

Each firing first claims its (job, slot) row in the database, so any number of processes
(`papertrend run`, or several `papertrend worker`) can run the same schedule and every slot
still runs once. Job functions know nothing about the scheduler.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.jobs.slots import claim_slot, slot_key
from app.models._common import utcnow
from app.readiness import is_unavailable, note_unreachable

log = logging.getLogger("papertrend.scheduler")


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def scheduled_jobs(
    settings: Settings, factory: sessionmaker[Session], on_pipeline_done: Callable[[], None] | None
) -> dict[str, tuple[str, Callable[[], None]]]:
    """Job name → (cron expression, function).

    Each ingest job fetches its sources and then runs the processing stages, so new papers
    reach the site right after arXiv announces them; the daily pipeline is the catch-up run of
    every enabled source. Sources are incremental, so a repeated fetch costs a request or two.
    """
    from app.jobs import mailing, pipeline

    enabled = settings.ingest_sources.split()

    def ingest_then_process(sources: list[str]) -> Callable[[], None]:
        def job() -> None:
            wanted = [name for name in sources if name in enabled]
            if not wanted:
                return
            report = pipeline.run_pipeline(settings, factory, sources=wanted, digests=False)
            for line in report.lines():
                log.info("%s %s", "+".join(wanted), line)
            if on_pipeline_done is not None:
                on_pipeline_done()

        return job

    def digests() -> None:
        encoder = pipeline.make_encoder(settings)
        mailing.step_digest_build(settings, factory, encoder, utcnow())

    def deliver() -> None:
        mailing.step_deliver(settings, factory, None, utcnow())

    return {
        "pipeline": (settings.schedule_pipeline, ingest_then_process(enabled)),
        "ingest_arxiv": (settings.schedule_arxiv, ingest_then_process(["arxiv_rss", "arxiv_api"])),
        "ingest_oai": (settings.schedule_oai, ingest_then_process(["arxiv_oai"])),
        "ingest_hf": (settings.schedule_hf, ingest_then_process(["hf_daily"])),
        "digest_build": (settings.schedule_digest, digests),
        "deliver": (settings.schedule_deliver, deliver),
    }


def _claimed(factory: sessionmaker[Session], name: str, fn: Callable[[], None]) -> Callable[[], None]:
    owner = _owner()

    def run() -> None:
        slot = slot_key(utcnow())
        try:
            if not claim_slot(factory, name, slot, owner):
                log.info("%s %s already claimed by another process; skipped", name, slot)
                return
            log.info("%s %s started", name, slot)
            fn()
        except Exception as exc:  # a scheduled job must never kill the scheduler thread
            if is_unavailable(exc):  # the database is away: one line per interval, not a traceback per slot
                note_unreachable(exc, where=f"scheduled {name} {slot}")
                return
            log.exception("%s %s failed", name, slot)

    return run


def start_scheduler(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    on_pipeline_done: Callable[[], None] | None = None,
) -> BackgroundScheduler:
    """Start the background scheduler with every job; the caller shuts it down."""
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for name, (cron, fn) in scheduled_jobs(settings, factory, on_pipeline_done).items():
        scheduler.add_job(
            _claimed(factory, name, fn),
            CronTrigger.from_crontab(cron, timezone="UTC"),
            id=name,
            name=name,
            misfire_grace_time=3600,
        )
        log.info("scheduled %s at '%s' (UTC)", name, cron)
    scheduler.start()
    return scheduler
