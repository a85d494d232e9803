"""Schedule slots claimed once across processes (a unique (job, slot) row).

APScheduler 3 cannot share a job store between processes safely, so every process may
fire the same cron slot; the first to insert the JobSlot row runs it, the others skip.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.models import JobSlot
from app.models._common import utcnow


def slot_key(when: datetime) -> str:
    """Cron slots are identified by their minute."""
    return when.strftime("%Y-%m-%dT%H:%M")


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
