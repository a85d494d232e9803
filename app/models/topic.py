"""Topics (areas and techniques), paper-topic assignments, daily counts and trending scores."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base, JSONType
from app.models._common import UTCDateTime, utcnow
from app.models.statuses import TopicStatus


class Topic(Base):
    """A named topic. Ids and slugs are never reused; operator edits live in the `*_locked`/flag columns."""

    __tablename__ = "topics"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    label: Mapped[str] = mapped_column(String(120))
    # area (a broad research area) | subtopic (a concept inside one area) | technique (cuts across areas)
    kind: Mapped[str] = mapped_column(String(16), default="area")
    # A subtopic's area; NULL for areas and techniques. Kept when the parent goes dormant or is merged
    # (the service re-parents subtopics of a merged area to the merge target).
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id", ondelete="SET NULL"), index=True)
    # see TopicStatus: active | emerging | dormant | merged (see merged_into_id)
    status: Mapped[str] = mapped_column(String(16), default=TopicStatus.ACTIVE)
    keywords: Mapped[list[str]] = mapped_column(JSONType, default=list)
    centroid: Mapped[bytes | None] = mapped_column(LargeBinary)
    # How new papers join between rebuilds: {"phrases": [...], "threshold": t, "mention_threshold": m}.
    assign_params: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    size: Mapped[int] = mapped_column(Integer, default=0)
    momentum: Mapped[float] = mapped_column(Float, default=0.0)
    # emerging | bursting | rising | falling | steady (see app.topics.trending)
    trend_state: Mapped[str] = mapped_column(String(16), default="steady")
    # The figures behind momentum/trend_state (week count, share, baseline, z, burst) for the site.
    trend: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    trend_updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    missed_builds: Mapped[int] = mapped_column(Integer, default=0)  # rebuilds in a row that did not find it
    proposed_label: Mapped[str | None] = mapped_column(String(120))  # a rename the next rebuild may confirm
    # Operator edits that survive rebuilds.
    label_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    pinned: Mapped[bool] = mapped_column(Boolean, default=False)
    manual: Mapped[bool] = mapped_column(Boolean, default=False)  # added by name + keywords
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("topics.id"))
    description: Mapped[str | None] = mapped_column(Text)
    build_id: Mapped[int | None] = mapped_column(ForeignKey("topic_builds.id", ondelete="SET NULL"))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_built: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TopicBuild(Base):
    """One topic rebuild: what went in, how the new topics matched the old ones, how long it took."""

    __tablename__ = "topic_builds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    seed: Mapped[int] = mapped_column(Integer)
    n_papers: Mapped[int] = mapped_column(Integer)
    n_topics: Mapped[int] = mapped_column(Integer)
    matched: Mapped[int] = mapped_column(Integer, default=0)
    emerging: Mapped[int] = mapped_column(Integer, default=0)
    dormant: Mapped[int] = mapped_column(Integer, default=0)
    stats: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaperTopicState(Base):
    """Marks a paper as placed in topics (by a rebuild or by assignment), even when it got none."""

    __tablename__ = "paper_topic_states"

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    model: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(8))  # build | assign
    build_id: Mapped[int | None] = mapped_column(
        ForeignKey("topic_builds.id", ondelete="SET NULL"), index=True
    )
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PaperTopic(Base):
    """A paper carries several topics, each with a score in [0, 1]."""

    __tablename__ = "paper_topics"
    __table_args__ = (Index("ix_paper_topics_topic_score", "topic_id", "score"),)

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True)
    score: Mapped[float] = mapped_column(Float)


class TopicDailyCount(Base):
    """Papers per topic per announcement day, and the topic's share of that day's papers."""

    __tablename__ = "topic_daily_counts"

    topic_id: Mapped[int] = mapped_column(ForeignKey("topics.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    count: Mapped[int] = mapped_column(Integer)
    share: Mapped[float] = mapped_column(Float)


class PaperScore(Base):
    """Trending score of a paper for a window (day/week/month) with its named parts."""

    __tablename__ = "paper_scores"
    __table_args__ = (Index("ix_paper_scores_window_score", "window", "score"),)

    paper_id: Mapped[int] = mapped_column(ForeignKey("papers.id", ondelete="CASCADE"), primary_key=True)
    window: Mapped[str] = mapped_column(String(8), primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    components: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PhraseTrend(Base):
    """A title phrase whose share of papers moved, as the last trends run found it (see
    `app.topics.phrase_trends`): replaced as a whole by each run."""

    __tablename__ = "phrase_trends"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)  # its stems, "agent skill"
    label: Mapped[str] = mapped_column(String(200))  # as titles write it, "Agent Skills"
    state: Mapped[str] = mapped_column(String(16))  # emerging | rising | falling
    momentum: Mapped[float] = mapped_column(Float)
    position: Mapped[int] = mapped_column(Integer)  # listing order: what moved most first
    trend: Mapped[dict[str, Any]] = mapped_column(JSONType, default=dict)
    as_of: Mapped[date] = mapped_column(Date)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
