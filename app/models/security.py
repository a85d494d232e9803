"""Failed sign-ins, kept briefly so every web process throttles guessing together."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._common import UTCDateTime, utcnow


class AuthFailure(Base):
    """One wrong admin token (form or Bearer): a keyed hash of the client address, never the address."""

    __tablename__ = "auth_failures"
    __table_args__ = (
        Index("ix_auth_failures_client", "scope", "client_hash", "created_at"),
        Index("ix_auth_failures_created", "scope", "created_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))  # admin
    client_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
