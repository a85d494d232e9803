"""Embedding vectors, one per (paper, model), tagged with the hash of the text they encode."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
from app.models._common import UTCDateTime, utcnow


class Embedding(Base):
    """A float32 vector stored as bytes. A new text hash replaces the row (the old text is gone).

    Ids only ever grow (AUTOINCREMENT on SQLite, a sequence on PostgreSQL): a replaced vector gets
    a new id, so the saved vector index finds every change since it was written by its largest id.
    """

    __tablename__ = "embeddings"
    __table_args__ = (UniqueConstraint("paper_id", "model"), {"sqlite_autoincrement": True})

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), index=True)
    model: Mapped[str] = mapped_column(String(200))
    text_hash: Mapped[str] = mapped_column(String(64))
    dim: Mapped[int] = mapped_column(Integer)
    vector: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
