"""Job-run bookkeeping: every pipeline step leaves a JobRun row with its counts or its error."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from app.db import session_scope
from app.models import JobRun
from app.models._common import utcnow
from app.security.redact import redact_text

log = logging.getLogger("papertrend.jobs")


@dataclass
class StepResult:
    """What one step did: a one-line summary and the counts stored on its JobRun."""

    job: str
    ok: bool = True
    summary: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    duration_s: float = 0.0


@contextmanager
def recorded_run(factory: sessionmaker[Session], job: str) -> Iterator[StepResult]:
    """Record a JobRun around a step. The step's own work commits in its own transaction.

    The run row is written first (status running) so /status shows a step in progress,
    then closed with the result; an exception marks it failed and is re-raised.
    """
    with session_scope(factory) as session:
        run = JobRun(job=job, status="running", started_at=utcnow(), stats={})
        session.add(run)
        session.flush()
        run_id = run.id
    result = StepResult(job=job)
    started = time.perf_counter()
    try:
        yield result
    except Exception as exc:
        result.ok = False
        # Kept for the operator (/admin); credentials in URLs never reach the row.
        result.error = redact_text(f"{type(exc).__name__}: {exc}")[:4000]
        raise
    finally:
        result.duration_s = round(time.perf_counter() - started, 3)
        with session_scope(factory) as session:
            row = session.get(JobRun, run_id)
            if row is not None:
                row.status = "ok" if result.ok else "failed"
                row.finished_at = utcnow()
                row.stats = {**result.stats, "duration_s": result.duration_s, "summary": result.summary}
                row.error = result.error


def run_step(factory: sessionmaker[Session], job: str, fn: Callable[[StepResult], None]) -> StepResult:
    """Run one step, log one line, never raise: a failed step does not stop the pipeline."""
    result = StepResult(job=job)
    try:
        with recorded_run(factory, job) as result:
            fn(result)
    except Exception as exc:  # logged and recorded; the next step still runs
        log.error("%s failed: %s: %s", job, type(exc).__name__, exc)
        return result
    log.info("%s: %s", job, result.summary)
    return result
