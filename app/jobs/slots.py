"""Schedule slots claimed once across processes (a unique (job, slot) row).

APScheduler 3 cannot share a job store between processes safely, so every process may
fire the same cron slot; the first to insert the JobSlot row runs it, the others skip.

A slot is named by the cron time it was due (`due_time`), not by the moment a process got
round to running it: a firing that comes late (a busy or suspended process, within the
misfire grace time) lands on the same slot as the punctual firing of another process and
is skipped, instead of running the job a second time under the next minute's name.
"""

from __future__ import annotations

import logging
import os
import socket
from collections.abc import Callable
from datetime import datetime, timedelta

from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.models import JobSlot
from app.models._common import utcnow
from app.readiness import is_unavailable, note_unreachable

log = logging.getLogger("papertrend.scheduler")

# How late a firing may still run (APScheduler's misfire_grace_time), and so how far back
# the due time of a firing is looked for.
MISFIRE_GRACE = timedelta(hours=1)


def slot_key(when: datetime) -> str:
    """A slot's name: the minute of its due time (cron has no finer unit)."""
    return when.strftime("%Y-%m-%dT%H:%M")


def due_time(trigger: BaseTrigger, now: datetime, *, within: timedelta = MISFIRE_GRACE) -> datetime | None:
    """The latest time at or before `now` at which `trigger` fires, looking back `within`.

    That is the firing a late run belongs to: APScheduler runs a missed firing once
    (coalesced) for the latest time it was due. None when the trigger did not fire then.
    """
    due = None
    fire = trigger.get_next_fire_time(None, now - within)
    while fire is not None and fire <= now:
        due = fire
        fire = trigger.get_next_fire_time(fire, fire)  # the one after `fire`
    return due


def claim_slot(factory: sessionmaker[Session], job: str, slot: str, owner: str) -> bool:
    """True if this process claimed (job, slot); False if another process already has it."""
    session = factory()
    try:
        session.add(JobSlot(job=job, slot=slot, owner=owner, claimed_at=utcnow()))
        session.commit()
        return True
    except IntegrityError:
        session.rollback()
        return False
    finally:
        session.close()


def default_owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def claimed(
    factory: sessionmaker[Session],
    name: str,
    trigger: BaseTrigger,
    fn: Callable[[], None],
    *,
    clock: Callable[[], datetime] = utcnow,
    owner: str | None = None,
) -> Callable[[], None]:
    """`fn` as a scheduled job: it runs only in the process that claims the firing's slot.

    Never raises: a scheduled job must not kill the scheduler thread.
    """
    who = owner or default_owner()

    def run() -> None:
        now = clock()
        slot = slot_key(due_time(trigger, now) or now)
        try:
            if not claim_slot(factory, name, slot, who):
                log.info("%s %s already claimed by another process; skipped", name, slot)
                return
            log.info("%s %s started", name, slot)
            fn()
        except Exception as exc:
            if is_unavailable(exc):  # the database is away: one line per interval, not a traceback per slot
                note_unreachable(exc, where=f"scheduled {name} {slot}")
                return
            log.exception("%s %s failed", name, slot)

    return run
