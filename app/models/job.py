"""Job bookkeeping: runs with their report, source watermarks, and claimed schedule slots."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JSONType
from app.models._common import UTCDateTime, utcnow


class JobRun(Base):
    """One run of one job (or one ingest source), with its counts and error."""

    __tablename__ = "job_runs"
    __table_args__ = (Index("ix_job_runs_job_started", "job", "started_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))  # e.g. "ingest:arxiv_api", "embed", "digest:send"
    status: Mapped[str] = mapped_column(String(16), default="running")  # running | ok | failed
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    error: Mapped[str | None] = mapped_column(Text)


class SourceState(Base):
    """Per-source watermark, advanced only after the data it covers is committed."""

    __tablename__ = "source_states"

    source: Mapped[str] = mapped_column(String(64), primary_key=True)
    watermark: Mapped[str | None] = mapped_column(String(200))
    cursor: Mapped[str | None] = mapped_column(Text)  # resumption token of an interrupted harvest
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class JobSlot(Base):
    """A scheduled slot claimed once across all processes (unique job + slot)."""

    __tablename__ = "job_slots"
    __table_args__ = (UniqueConstraint("job", "slot"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    job: Mapped[str] = mapped_column(String(64))
    slot: Mapped[str] = mapped_column(String(64))
    owner: Mapped[str] = mapped_column(String(100))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
