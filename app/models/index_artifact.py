"""Published vector indexes: one row per version, the file beside it or the bytes inside it."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, deferred, mapped_column

from app.db import Base
from app.models._common import UTCDateTime, utcnow


class IndexArtifact(Base):
    """One published version of the vector index of one embedding model.

    `version` only grows (it is the row id), so "newer" is a comparison of two numbers on every
    replica. A small index travels in `data`; a larger one is a file named `location` in the
    shared index folder. `checksum` (SHA-256 of the bytes) and `size_bytes` let a replica refuse
    a damaged or half-copied file and keep serving the version it has.
    """

    __tablename__ = "index_artifacts"
    __table_args__ = (Index("ix_index_artifacts_model_version", "model", "version"),)

    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    checksum: Mapped[str] = mapped_column(String(64))  # SHA-256, hex
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    vectors: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))  # exact | ivf-sq8
    watermark: Mapped[int] = mapped_column(BigInteger, default=0)
    location: Mapped[str | None] = mapped_column(String(300))  # file name in the shared folder
    # Loaded only when asked for: listing versions must not pull megabytes per row.
    data: Mapped[bytes | None] = deferred(mapped_column(LargeBinary))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
