"""The scale-out adapter: papertrend's jobs as procrastinate tasks on PostgreSQL.

Scale-out mode (`papertrend worker`, any number, on any machines) runs every scheduled job as a
procrastinate periodic task; this is the only module that imports procrastinate. Job functions
(`app.jobs.scheduler.scheduled_jobs`) know nothing about it.

How the guarantees come about:

* **once per slot**: every worker runs procrastinate's periodic deferrer; a slot (job, cron
  time) is deferred once through the unique row in `procrastinate_periodic_defers`. A worker
  whose deferrer lags can defer an old slot again after procrastinate pruned that slot's row,
  so a task also skips its slot when a later slot of the same job was deferred before it (`_stale`).
* **no overlap**: each job's task has `lock=<job>`: a second run of one job waits until the
  first ends, whatever worker picks it.
* **backlog coalesces**: `queueing_lock=<job>`: while one run waits in the queue, later slots
  are not queued again; the waiting run does their work.
* **catch-up**: a worker that starts defers the latest slot of each job that fell due within
  WORKER_CATCHUP_HOURS (procrastinate's `max_delay`, one minute at least) and has not been
  deferred yet: after all workers were down, that slot runs once; older missed slots do not run.
* **dead workers**: workers send a heartbeat every quarter of WORKER_STALLED_SECONDS; the
  `retry_stalled` periodic task (SCHEDULE_STALLED) puts the running tasks of a worker silent
  for longer back in the queue. A periodic task whose next slot is already waiting is not
  retried (the waiting slot does the work) but marked failed.
* **delivery**: `send_chunk` tasks send outbox rows (`app.mail.chunks`); a digest build defers
  them in its own transaction through `defer_in_session`, and the `deliver` job hands out
  chunks for whatever is due (retries, rows recovered from a dead worker).
"""

from __future__ import annotations

import asyncio
import contextvars
import json
import logging
import math
import os
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import procrastinate
from procrastinate import JobContext
from procrastinate.exceptions import ProcrastinateException
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.config import Settings
from app.db import session_scope
from app.mail.chunks import send_chunk
from app.mail.compose import MailSetup
from app.mail.fleet import Fleet
from app.mail.leases import recover_and_expire
from app.mail.policy import DeliveryPolicy
from app.mail.queries import due_count
from app.mail.senders import make_sender
from app.models._common import utcnow
from app.readiness import is_unavailable, note_unreachable

log = logging.getLogger("papertrend.worker")

JOB_PREFIX = "job:"  # task name of a scheduled job: job:<name>
SEND_TASK = "mail:send_chunk"
STALLED_TASK = "queue:retry_stalled"
CLEANUP_TASK = "queue:remove_old_jobs"
CATCHUP_MIN_S = 60.0
KEEP_FINISHED_HOURS = 72  # finished tasks kept for the operator before the daily clean-up

# The cron time (epoch seconds) of the slot a scheduled job is running for, for its logs.
running_slot: contextvars.ContextVar[int | None] = contextvars.ContextVar("running_slot", default=None)


def conninfo(url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as the libpq connection string procrastinate's pool takes."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@dataclass
class Runtime:
    """What the tasks of one worker process share: settings, sessions, the fleet budgets."""

    settings: Settings
    factory: sessionmaker[Session]
    fleet: Fleet | None = None
    mail_policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def fleet_budgets(self) -> Fleet:
        """The fleet budgets' connections, opened by the first send task (tasks run in threads)."""
        with self.lock:
            return self._fleet()

    def _fleet(self) -> Fleet:
        if self.fleet is None:
            self.fleet = Fleet(
                self.settings.effective_database_url,
                connections=self.settings.smtp_concurrency,
                per_second=self.settings.smtp_rate_per_second,
                pool_size=self.settings.worker_concurrency + 2,
            )
        return self.fleet


def defer_in_session(
    session: Session,
    task: str,
    args: dict[str, Any],
    *,
    lock: str | None = None,
    queueing_lock: str | None = None,
    queue: str = "default",
) -> bool:
    """Queue a task in the caller's transaction (procrastinate's `procrastinate_defer_jobs_v1`).

    The task exists if and only if the caller commits. False when `queueing_lock` is taken (a
    task of that lock already waits), which leaves the caller's transaction intact.
    """
    stmt = text(
        "SELECT procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, :lock, :qlock, "
        "CAST(:args AS jsonb), NULL)::procrastinate_job_to_defer_v1])"
    )
    params = {"queue": queue, "task": task, "lock": lock, "qlock": queueing_lock, "args": json.dumps(args)}
    try:
        with session.begin_nested():
            session.execute(stmt, params)
    except IntegrityError:
        return False
    return True


def chunk_fan_out(chunk_size: int) -> Callable[[Session, list[int]], int]:
    """A digest build's hand-off: its new outbox rows as send tasks of `chunk_size` rows."""

    def fan_out(session: Session, ids: list[int]) -> int:
        for start in range(0, len(ids), chunk_size):
            defer_in_session(session, SEND_TASK, {"ids": ids[start : start + chunk_size]})
        return math.ceil(len(ids) / chunk_size)

    return fan_out


def deliver_due(runtime: Runtime) -> None:
    """The `deliver` job in scale-out mode: recover dead workers' claims, hand out what is due.

    At most one waiting sweep task per fleet connection slot (queueing locks), so repeated runs
    never pile up tasks; each sweep sends up to a chunk of due rows.
    """
    settings = runtime.settings
    with session_scope(runtime.factory) as session:
        recovered, expired = recover_and_expire(session, utcnow(), runtime.mail_policy)
        due = due_count(session, utcnow())
        wanted = min(math.ceil(due / settings.mail_chunk_size), settings.smtp_concurrency)
        queued = sum(
            defer_in_session(session, SEND_TASK, {"ids": None}, queueing_lock=f"mail-sweep-{n}")
            for n in range(wanted)
        )
    if recovered or expired or due:
        log.info("deliver: %d due, %d sweep tasks, %d recovered, %d expired", due, queued, recovered, expired)


def _stale(factory: sessionmaker[Session], task: str, timestamp: int) -> bool:
    """True when this slot was deferred after a later slot of the same task (see the module doc).

    Only a lagging worker's re-deferral of an old slot comes after a later slot's row; a slot that
    merely waited behind the previous run (a short backlog) was deferred first, and still runs.
    """
    with factory() as session:
        return bool(
            session.scalar(
                text(
                    "SELECT EXISTS (SELECT 1 FROM procrastinate_periodic_defers AS mine "
                    "JOIN procrastinate_periodic_defers AS later "
                    "ON later.task_name = mine.task_name AND later.periodic_id = mine.periodic_id "
                    "WHERE mine.task_name = :task AND mine.periodic_id = :pid AND mine.defer_timestamp = :ts "
                    "AND later.defer_timestamp > mine.defer_timestamp AND later.id < mine.id)"
                ),
                {"task": task, "pid": task, "ts": timestamp},
            )
        )


def _scheduled_task(runtime: Runtime, name: str, fn: Callable[[], None]) -> Callable[..., None]:
    task_name = JOB_PREFIX + name

    def run(timestamp: int) -> None:
        try:
            if _stale(runtime.factory, task_name, timestamp):
                log.info("%s slot %s skipped: a later slot is already queued", name, timestamp)
                return
            token = running_slot.set(timestamp)
            try:
                fn()
            finally:
                running_slot.reset(token)
        except Exception as exc:
            if is_unavailable(exc):  # the database is away: one line per interval, not a traceback per slot
                note_unreachable(exc, where=f"scheduled {name}")
                return
            raise  # failed in procrastinate's record too

    run.__name__ = f"job_{name.replace(':', '_')}"
    return run


def make_app(
    settings: Settings,
    factory: sessionmaker[Session],
    jobs: dict[str, tuple[str, Callable[[], None]]] | None = None,
    *,
    only: set[str] | None = None,
) -> procrastinate.App:
    """The procrastinate app with every task; `jobs` defaults to the product's scheduled jobs
    (those named in `only`, when given)."""
    from app.jobs.scheduler import scheduled_jobs

    runtime = Runtime(settings, factory, mail_policy=DeliveryPolicy.from_settings(settings))
    if jobs is None:
        jobs = scheduled_jobs(
            settings,
            factory,
            None,
            fan_out=chunk_fan_out(settings.mail_chunk_size),
            deliver=lambda: deliver_due(runtime),
        )
        if only is not None:
            jobs = {name: job for name, job in jobs.items() if name in only}
    app = procrastinate.App(
        connector=procrastinate.PsycopgConnector(
            conninfo=conninfo(settings.effective_database_url),
            min_size=1,
            max_size=settings.worker_concurrency + 2,  # LISTEN, heartbeat, and one per running task
            kwargs={"connect_timeout": int(settings.database_connect_timeout)},
        ),
        # procrastinate defers a slot only when it is at most `max_delay` late, and a worker's
        # first look at a slot is always a little late: one minute is the least it may be.
        periodic_defaults={"max_delay": max(settings.worker_catchup_hours * 3600, CATCHUP_MIN_S)},
    )
    for name, (cron, fn) in jobs.items():
        task_name = JOB_PREFIX + name
        task = app.task(name=task_name, lock=name, queueing_lock=name)(_scheduled_task(runtime, name, fn))
        app.periodic(cron=cron, periodic_id=task_name)(task)

    @app.task(name=SEND_TASK)
    def send(ids: list[int] | None) -> None:
        setup = MailSetup.from_settings(settings)
        sender = make_sender(settings)
        report = send_chunk(
            factory,
            sender,
            setup,
            runtime.fleet_budgets(),
            policy=runtime.mail_policy,
            ids=ids,
            limit=settings.mail_chunk_size,
        )
        if report.claimed or report.paused:
            log.info("send chunk: %s", report.summary())

    @app.periodic(cron=settings.schedule_stalled, periodic_id=STALLED_TASK)
    @app.task(name=STALLED_TASK, queueing_lock=STALLED_TASK, pass_context=True)
    async def retry_stalled(context: JobContext, timestamp: int) -> None:
        await retry_stalled_jobs(context.app, settings.worker_stalled_seconds)

    @app.periodic(cron="17 3 * * *", periodic_id=CLEANUP_TASK)
    @app.task(name=CLEANUP_TASK, queueing_lock=CLEANUP_TASK, pass_context=True)
    async def remove_old(context: JobContext, timestamp: int) -> None:
        await context.app.job_manager.delete_old_jobs(
            nb_hours=KEEP_FINISHED_HOURS, include_failed=True, include_aborted=True
        )

    return app


async def retry_stalled_jobs(app: procrastinate.App, seconds: float) -> int:
    """Put the running tasks of workers silent for `seconds` back in the queue; returns how many."""
    manager = app.job_manager
    retried = 0
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=seconds):
        try:
            await manager.retry_job(job)
            retried += 1
            log.warning("task %s[%s] of a dead worker queued again", job.task_name, job.id)
        except ProcrastinateException:
            # Its queueing lock is taken: a later slot of the same job already waits and does its
            # work. The dead run is closed as failed so its lock frees the waiting one.
            await manager.finish_job(job, status=procrastinate.jobs.Status.FAILED, delete_job=False)
            log.warning("task %s[%s] of a dead worker closed; a later run is queued", job.task_name, job.id)
    return retried


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def run_worker(
    settings: Settings,
    factory: sessionmaker[Session],
    *,
    concurrency: int,
    jobs: dict[str, tuple[str, Callable[[], None]]] | None = None,
    only: set[str] | None = None,
) -> None:
    """Run one worker until SIGINT/SIGTERM: periodic deferrer, heartbeats, `concurrency` tasks at once."""
    # Pools are sized from the concurrency this worker really runs (--concurrency may differ).
    settings = settings.model_copy(update={"worker_concurrency": concurrency})
    app = make_app(settings, factory, jobs, only=only)
    stalled = float(settings.worker_stalled_seconds)

    async def main() -> None:
        async with app.open_async():
            await app.run_worker_async(
                concurrency=concurrency,
                name=worker_name(),
                update_heartbeat_interval=max(stalled / 4, 0.5),
                stalled_worker_timeout=stalled,
                delete_jobs="successful",
                shutdown_graceful_timeout=30,
            )

    asyncio.run(main())
