"""Papers: one row per paper, merged across sources, and which source said what about it."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JSONType
from app.models._common import UTCDateTime, utcnow


class Paper(Base):
    """A paper. arXiv papers are keyed by `arxiv_id` across sources; others by (source, source_id)."""

    __tablename__ = "papers"
    __table_args__ = (
        UniqueConstraint("source", "source_id"),
        Index("ix_papers_announced_date", "announced_date"),
        Index("ix_papers_published_at", "published_at"),
        Index("ix_papers_primary_category", "primary_category"),
        # Finds a paper first stored by its title (source_id "t:…") when its arXiv id turns up.
        Index("ix_papers_source_id", "source_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(200))
    arxiv_id: Mapped[str | None] = mapped_column(String(40), unique=True)
    arxiv_version: Mapped[int | None] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    abstract: Mapped[str] = mapped_column(Text, default="")
    authors: Mapped[list[str]] = mapped_column(JSONType, default=list)
    categories: Mapped[list[str]] = mapped_column(JSONType, default=list)
    primary_category: Mapped[str | None] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at_source: Mapped[datetime | None] = mapped_column(UTCDateTime)
    announced_date: Mapped[date | None] = mapped_column(Date)
    abs_url: Mapped[str | None] = mapped_column(String(500))
    pdf_url: Mapped[str | None] = mapped_column(String(500))
    code_url: Mapped[str | None] = mapped_column(String(500))
    project_url: Mapped[str | None] = mapped_column(String(500))
    upvotes: Mapped[int | None] = mapped_column(Integer)
    comments_count: Mapped[int | None] = mapped_column(Integer)
    github_stars: Mapped[int | None] = mapped_column(Integer)
    hf_date: Mapped[date | None] = mapped_column(Date)
    # Listed on Hugging Face Daily Papers: True/False when a source said so (a file's
    # `hf_daily_listed`, or a listing), None when nobody did. A listing also sets hf_date.
    hf_listed: Mapped[bool | None] = mapped_column(Boolean)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    withdrawn: Mapped[bool] = mapped_column(Boolean, default=False)
    # Raw record per source ({"arxiv_api": {...}, "hf_daily": {...}}) so a parser fix can re-parse.
    raw: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    # sha256 of the text the encoder sees; a change marks the paper for re-embedding.
    text_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    @property
    def public_id(self) -> str:
        """The id used in URLs and exports: the arXiv id when known."""
        return self.arxiv_id or f"{self.source}:{self.source_id}"

    @property
    def sort_date(self) -> date | None:
        if self.announced_date:
            return self.announced_date
        return self.published_at.date() if self.published_at else None


class PaperSource(Base):
    """One source's latest statement about a paper: its id there and a fingerprint of the raw item.

    An item whose fingerprint is already stored is skipped before it is even parsed, which
    makes re-ingesting a file or re-fetching a page cheap and write-free.
    """

    __tablename__ = "paper_sources"
    __table_args__ = (
        UniqueConstraint("paper_id", "source"),
        Index("ix_paper_sources_fingerprint", "fingerprint"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(32))
    source_id: Mapped[str] = mapped_column(String(200))
    # sha256 of (parser version, source, raw item): equal means nothing new from this source.
    fingerprint: Mapped[str] = mapped_column(String(64))
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
