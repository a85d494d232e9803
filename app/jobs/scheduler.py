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

log = logging.getLogger("papertrend.scheduler")


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def scheduled_jobs(
    settings: Settings, factory: sessionmaker[Session], on_pipeline_done: Callable[[], None] | None
) -> dict[str, tuple[str, Callable[[], None]]]:
    """Job name → (cron expression, function)."""
    from app.jobs import mailing, pipeline

    def full_pipeline() -> None:
        report = pipeline.run_pipeline(settings, factory, digests=False)
        for line in report.lines():
            log.info("pipeline %s", line)
        if on_pipeline_done is not None:
            on_pipeline_done()

    def hf_refresh() -> None:
        from app.ingest.service import run_source

        run_source(factory, settings, "hf_daily")

    def digests() -> None:
        encoder = pipeline.make_encoder(settings)
        mailing.step_digest_build(settings, factory, encoder, utcnow())

    def deliver() -> None:
        mailing.step_deliver(settings, factory, None, utcnow())

    return {
        "pipeline": (settings.schedule_pipeline, full_pipeline),
        "hf_refresh": (settings.schedule_hf, hf_refresh),
        "digest_build": (settings.schedule_digest, digests),
        "deliver": (settings.schedule_deliver, deliver),
    }


def _claimed(factory: sessionmaker[Session], name: str, fn: Callable[[], None]) -> Callable[[], None]:
    owner = _owner()

    def run() -> None:
        slot = slot_key(utcnow())
        if not claim_slot(factory, name, slot, owner):
            log.info("%s %s already claimed by another process; skipped", name, slot)
            return
        log.info("%s %s started", name, slot)
        try:
            fn()
        except Exception:  # a scheduled job must never kill the scheduler thread
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
