"""Liveness and readiness, for load balancers and orchestrators.

* live (`/healthz`): the process answers; nothing else is asked, so a slow database never
  gets a healthy process restarted;
* ready (`/readyz`): the database answers within its connect timeout, its schema is the one
  this code was built for (Alembic's revision equals the newest migration shipped), and the
  vector index is loaded: when a version has been published for the model this process
  serves, one must be loaded (a process still serving an older version because the newest
  failed its checksum stays ready and says so). A site with nothing published yet is ready
  with keyword search. Anything else is 503 with the reason, so a balancer sends no traffic
  to a process that would answer errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from app.http.state import AppState
from app.readiness import head_revision, note_unreachable
from app.security.redact import redact_text


@dataclass
class Readiness:
    ready: bool
    checks: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"status": "ready" if self.ready else "not ready", **self.checks}


def check_ready(state: AppState) -> Readiness:
    """Database, schema and index, each with its own verdict (see the module docstring)."""
    head = head_revision()
    database: dict[str, Any] = {"ok": False, "schema": None, "expected_schema": head}
    try:
        with state.session_factory() as session:
            revision = session.scalar(text("SELECT version_num FROM alembic_version"))
    except SQLAlchemyError as exc:
        note_unreachable(exc, where="/readyz")
        inner = getattr(exc, "orig", None) or exc
        lines = str(inner).strip().splitlines()
        database["error"] = redact_text(lines[0] if lines else type(inner).__name__)[:200]
    else:
        database["schema"] = revision
        database["ok"] = revision == head
        if revision != head:
            database["error"] = f"schema {revision}, this version needs {head}: run `papertrend init`"
    status = state.index_status
    index: dict[str, Any] = {"ok": True, **status.as_dict()}
    if not status.watching:
        index["source"] = "not loaded by this process"
    elif state.index is None and status.latest is not None:
        index["ok"] = False
        index["error"] = status.problem or f"published version {status.latest} is not loaded"
    return Readiness(
        ready=bool(database["ok"] and index["ok"]), checks={"database": database, "index": index}
    )
