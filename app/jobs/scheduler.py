"""The embedded scheduler (APScheduler 3): cron jobs that call the pipeline's steps.

This is embedded mode (`papertrend run`, one process). Scale-out mode runs the same jobs as
periodic tasks of the PostgreSQL task queue instead (`app.jobs.queue`). Cron expressions use
crontab's day numbering (0 = Sunday), translated for APScheduler by `app.cron`.

Each firing first claims its (job, slot) row in the database, the slot named by the cron time
it was due (`app.jobs.slots`), so any number of processes (`papertrend run`, or several
`papertrend worker`) can run the same schedule and every slot still runs once, even when one
process fires late. Job functions know nothing about the scheduler.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.cron import cron_trigger
from app.ingest import registry
from app.jobs.slots import MISFIRE_GRACE, claimed
from app.models._common import utcnow

log = logging.getLogger("papertrend.scheduler")


def scheduled_jobs(
    settings: Settings,
    factory: sessionmaker[Session],
    on_pipeline_done: Callable[[], None] | None,
    *,
    fan_out: Callable[[Session, list[int]], int] | None = None,
    deliver: Callable[[], None] | None = None,
) -> dict[str, tuple[str, Callable[[], None]]]:
    """Job name → (cron expression, function).

    Each ingest job fetches its sources and then runs the processing stages, so new papers
    reach the site right after arXiv announces them; the daily pipeline is the catch-up run of
    every enabled source. Sources are incremental, so a repeated fetch costs a request or two.
    The ingest jobs come from the source registry: one per schedule setting
    (`app.ingest.registry.scheduled_ingest`), running the enabled sources that use it.
    Scale-out mode passes `fan_out` (digest build hands its rows to the workers as send tasks)
    and its own `deliver` (retries and recovered rows, handed out the same way).
    """
    # Imported when a job runs: a worker that only sends mail never loads the model stack.
    enabled = [source.name for source in registry.enabled(settings)]

    def ingest_then_process(sources: list[str]) -> Callable[[], None]:
        def job() -> None:
            from app.jobs import pipeline

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
        from app.jobs import mailing, pipeline

        encoder = pipeline.make_encoder(settings)
        mailing.step_digest_build(settings, factory, encoder, utcnow(), fan_out=fan_out)

    def deliver_here() -> None:
        from app.jobs import mailing

        mailing.step_deliver(settings, factory, None, utcnow())

    jobs: dict[str, tuple[str, Callable[[], None]]] = {
        "pipeline": (settings.schedule_pipeline, ingest_then_process(enabled))
    }
    for name, (cron, sources) in registry.scheduled_ingest(settings).items():
        jobs[name] = (cron, ingest_then_process(sources))
    jobs["digest_build"] = (settings.schedule_digest, digests)
    jobs["deliver"] = (settings.schedule_deliver, deliver or deliver_here)
    return jobs


def start_scheduler(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    on_pipeline_done: Callable[[], None] | None = None,
) -> BackgroundScheduler:
    """Start the background scheduler with every job; the caller shuts it down."""
    scheduler = BackgroundScheduler(timezone="UTC", job_defaults={"coalesce": True, "max_instances": 1})
    for name, (cron, fn) in scheduled_jobs(settings, factory, on_pipeline_done).items():
        trigger = cron_trigger(cron)
        scheduler.add_job(
            claimed(factory, name, trigger, fn),
            trigger,
            id=name,
            name=name,
            misfire_grace_time=int(MISFIRE_GRACE.total_seconds()),
        )
        log.info("scheduled %s at '%s' (UTC)", name, cron)
    scheduler.start()
    return scheduler
