"""Rate limits shared by every process: when the next request to an upstream may start."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._common import UTCDateTime


class RateLimit(Base):
    """The earliest start of the next request to one upstream (e.g. "arxiv"), on the database clock.

    Written only under the upstream's PostgreSQL advisory lock by
    `app.ingest.sources.shared_limiter`, so workers on several machines keep one spacing.
    """

    __tablename__ = "rate_limits"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    next_start: Mapped[datetime] = mapped_column(UTCDateTime)
