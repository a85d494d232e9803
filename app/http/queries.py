"""The SQL behind request-level protections: failed sign-ins counted in the database.

Counting in the database (not in process memory) lets every web process share one count, so
a throttle holds however many replicas serve the site. Callers own the transaction.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from app.models import AuthFailure


def auth_failures(
    session: Session, *, scope: str, since: datetime, client_hash: str | None, limit: int
) -> list[datetime]:
    """Times of the newest `limit` failures since `since` (of one client, or of everyone), oldest first."""
    stmt = select(AuthFailure.created_at).where(AuthFailure.scope == scope, AuthFailure.created_at >= since)
    if client_hash is not None:
        stmt = stmt.where(AuthFailure.client_hash == client_hash)
    return sorted(session.scalars(stmt.order_by(AuthFailure.created_at.desc()).limit(limit)))


def record_auth_failure(
    session: Session, *, scope: str, client_hash: str, at: datetime, keep: timedelta
) -> None:
    """Count one failure and forget those older than `keep` (the table stays small)."""
    session.add(AuthFailure(scope=scope, client_hash=client_hash, created_at=at))
    session.execute(delete(AuthFailure).where(AuthFailure.created_at < at - keep))


def clear_auth_failures(session: Session, *, scope: str, client_hash: str) -> None:
    """A successful sign-in forgets the client's earlier failures."""
    session.execute(
        delete(AuthFailure).where(AuthFailure.scope == scope, AuthFailure.client_hash == client_hash)
    )


def count_failures(session: Session, since: datetime) -> int:
    """Failed sign-ins of every scope since `since` (for the admin overview and tests)."""
    stmt = select(func.count()).select_from(AuthFailure).where(AuthFailure.created_at >= since)
    return int(session.scalar(stmt) or 0)
