"""Early-trending models (versioned, with their window, inputs and evaluation) and their predictions."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JSONType
from app.models._common import UTCDateTime, utcnow


class TrendModelVersion(Base):
    """One fitted model. Never edited after it is stored; a retrain adds a version.

    It learned only labels known before `cutoff` and may only score papers announced on or after
    it; the newest version whose cutoff is not after a paper's day is the one that scores it.
    """

    __tablename__ = "trend_models"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    kind: Mapped[str] = mapped_column(String(16))  # bundled | trained
    label: Mapped[str] = mapped_column(String(40))  # featured | upvotes>=N
    cutoff: Mapped[date] = mapped_column(Date)
    train_from: Mapped[date | None] = mapped_column(Date)
    train_to: Mapped[date | None] = mapped_column(Date)
    n_train: Mapped[int] = mapped_column(Integer, default=0)
    n_positive: Mapped[int] = mapped_column(Integer, default=0)
    # Labels of this instance's own papers usable at the cutoff (0 for the bundled model).
    n_labels_here: Mapped[int] = mapped_column(Integer, default=0)
    features: Mapped[list[str]] = mapped_column(JSONType, default=list)
    # The whole stored document (model numbers, recipe, fields, source); see app.early.training.
    document: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # False: kept for the record (and for the papers it scored) but not used for new scores.
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TrendPrediction(Base):
    """A paper's chance of being picked up, from the model version that applies to its day."""

    __tablename__ = "trend_predictions"
    __table_args__ = (Index("ix_trend_predictions_model", "model_id"),)

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    model_id: Mapped[int] = mapped_column(ForeignKey("trend_models.id", ondelete="CASCADE"))
    probability: Mapped[float] = mapped_column(Float)
    # [{"code": input, "text": words, "lift": log-odds}], best first
    reasons: Mapped[list[dict[str, Any]]] = mapped_column(JSONType, default=list)
    reliability: Mapped[str] = mapped_column(String(16), default="moderate")  # low | moderate | good
    reliability_note: Mapped[str | None] = mapped_column(Text)
    # The named inputs as computed that morning (what the reasons were read from).
    inputs: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
