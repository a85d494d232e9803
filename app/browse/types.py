"""Read models: the plain, frozen shapes that pages, the JSON API and feeds all render."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from app.models.statuses import TopicStatus

WINDOWS = ("day", "week", "month")
WINDOW_DAYS = {"day": 1, "week": 7, "month": 30}


@dataclass(frozen=True)
class TopicChip:
    """A topic as it appears on a card or a list: enough to link to it and say how it moves."""

    id: int
    slug: str
    label: str
    kind: str
    status: str = TopicStatus.ACTIVE
    momentum: float = 0.0
    trend_state: str = "steady"
    score: float | None = None  # the paper's membership score when shown on a paper
    parent_id: int | None = None  # a subtopic's area
    parent_slug: str | None = None  # filled where the area is looked up (lists, cards, the API)


@dataclass(frozen=True)
class TrendChance:
    """A paper's early-trending prediction as shown on a card, a paper page or an API item."""

    probability: float
    reasons: tuple[str, ...]
    reliability: str  # low | moderate | good
    reliability_note: str
    model: str
    model_kind: str  # bundled | trained
    cutoff: date  # the model learned only labels known before this day
    featured: bool  # the outcome is in: Hugging Face listed the paper

    @property
    def percent(self) -> str:
        """The chance in words a reader takes in at a glance ("34 %", "<1 %")."""
        if self.probability < 0.005:
            return "<1 %"
        if self.probability > 0.995:
            return ">99 %"
        return f"{round(self.probability * 100)} %"


@dataclass(frozen=True)
class PaperCard:
    """A paper with what a card, an API item or a feed entry shows."""

    id: int
    public_id: str
    arxiv_id: str | None
    arxiv_version: int | None
    title: str
    authors: tuple[str, ...]
    abstract: str
    summary: str | None  # a source's short summary (e.g. Hugging Face's), when one exists
    primary_category: str | None
    categories: tuple[str, ...]
    published_at: datetime | None
    updated_at: datetime | None
    announced_date: date | None
    abs_url: str | None
    pdf_url: str | None
    code_url: str | None
    project_url: str | None
    hf_url: str | None
    upvotes: int | None
    comments_count: int | None
    github_stars: int | None
    comment: str | None = None
    topics: tuple[TopicChip, ...] = ()
    score: float | None = None
    components: dict[str, Any] = field(default_factory=dict)
    rank: int | None = None
    trend: TrendChance | None = None  # early-trending prediction, when the paper has one

    @property
    def day(self) -> date | None:
        if self.announced_date:
            return self.announced_date
        return self.published_at.date() if self.published_at else None


@dataclass(frozen=True)
class TopicMomentum:
    """A topic in the list: size, momentum and its recent weekly counts for a sparkline."""

    topic: TopicChip
    size: int
    week_count: int
    weekly: tuple[int, ...]
    keywords: tuple[str, ...] = ()
    pinned: bool = False
    parent: TopicChip | None = None  # a subtopic's area (None: an area, a technique, or an area not shown)
    subtopics: int = 0  # an area's visible subtopics
    summary: str = ""  # the trend in words and numbers, without paper counts (empty before a trends run)


@dataclass(frozen=True)
class AreaGroup:
    """An area of the topic index with its subtopics (in the order the index is sorted by)."""

    area: TopicMomentum
    subtopics: list[TopicMomentum]


@dataclass(frozen=True)
class TopicTree:
    """The topic index: areas with their subtopics, techniques apart, and subtopics whose area is
    not shown (hidden by the operator or missing), so that no visible topic goes unlisted."""

    areas: list[AreaGroup]
    techniques: list[TopicMomentum]
    unplaced: list[TopicMomentum]

    def __bool__(self) -> bool:
        return bool(self.areas or self.techniques or self.unplaced)

    def all(self) -> list[TopicMomentum]:
        return [
            *(m for g in self.areas for m in (g.area, *g.subtopics)),
            *self.unplaced,
            *self.techniques,
        ]


@dataclass(frozen=True)
class TrendingResult:
    window: str
    day: date | None  # the last day of the window (None: no papers at all)
    start: date | None
    cards: list[PaperCard]
    total: int
    page: int
    per_page: int
    ranked: bool  # True when trending scores exist for the window; False: newest first
    topic: TopicChip | None = None
    prev_day: date | None = None
    next_day: date | None = None
    latest_day: date | None = None
    chips: list[tuple[TopicChip, int]] = field(default_factory=list)  # topics in the window + counts

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.per_page))


@dataclass(frozen=True)
class WeekPoint:
    start: date
    end: date
    count: int
    baseline: float | None  # mean of the trailing weeks before this one (None: too early)


@dataclass(frozen=True)
class TopicDetail:
    topic: TopicChip
    size: int
    keywords: tuple[str, ...]
    description: str | None
    first_seen: datetime | None
    weeks: list[WeekPoint]
    top_papers: list[PaperCard]
    newest_papers: list[PaperCard]
    related: list[tuple[TopicChip, int]]  # topic and number of shared papers
    trend: dict[str, Any] = field(default_factory=dict)
    merged_into: TopicChip | None = None
    parent: TopicChip | None = None  # a subtopic's area, when visible
    subtopics: list[TopicMomentum] = field(default_factory=list)  # an area's visible subtopics


@dataclass(frozen=True)
class PaperDetail:
    card: PaperCard
    all_topics: list[TopicChip]
    raw_sources: tuple[str, ...]
