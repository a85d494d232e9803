"""Response shapes of the JSON API (pydantic), with the examples shown in the OpenAPI schema."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

PAPER_EXAMPLE: dict[str, Any] = {
    "id": "2303.17951",
    "arxiv_id": "2303.17951",
    "version": 2,
    "title": "FP8 versus INT8 for efficient deep learning inference",
    "authors": ["Mart van Baalen", "Andrey Kuzmin", "Markus Nagel"],
    "abstract": "Recently, the idea of using FP8 as a number format for neural network training...",
    "summary": None,
    "categories": ["cs.LG", "cs.AR"],
    "primary_category": "cs.LG",
    "published_at": "2023-03-31T09:50:33Z",
    "updated_at": "2023-06-15T12:00:00Z",
    "announced_date": "2023-04-03",
    "links": {
        "page": "https://papers.example.org/papers/2303.17951",
        "abs": "https://arxiv.org/abs/2303.17951",
        "pdf": "https://arxiv.org/pdf/2303.17951",
        "code": None,
        "project": None,
        "huggingface": "https://huggingface.co/papers/2303.17951",
    },
    "upvotes": 12,
    "comments": 1,
    "github_stars": None,
    "topics": [{"slug": "quantization", "label": "Quantization", "kind": "technique", "score": 0.91}],
}


class TopicRef(BaseModel):
    slug: str = Field(examples=["quantization"])
    label: str = Field(examples=["Quantization"])
    kind: Literal["area", "subtopic", "technique"] | str = Field(examples=["technique"])
    score: float | None = Field(
        None, description="How well the paper fits the topic, 0 to 1.", examples=[0.91]
    )
    parent: str | None = Field(
        None,
        description="Slug of the research area a subtopic belongs to; null for areas and techniques.",
        examples=["natural-language-processing"],
    )


class PaperLinks(BaseModel):
    page: str = Field(description="This paper's page on this site.")
    abs: str | None = Field(None, description="arXiv abstract page.")
    pdf: str | None = None
    code: str | None = None
    project: str | None = None
    huggingface: str | None = None


class TrendPrediction(BaseModel):
    """The early-trending estimate: the chance of being picked up, made on the announcement morning."""

    # Read from `app.browse.types.TrendChance`, whose names it keeps.
    probability: float = Field(ge=0, le=1, examples=[0.34])
    reasons: list[str] = Field(
        description="The inputs that raised the chance most, in words, best first.",
        examples=[["authors with 3 featured papers", "code released"]],
    )
    reliability: Literal["low", "moderate", "good"] | str = Field(examples=["moderate"])
    reliability_note: str = Field(
        examples=["starting model; this site has 0 labelled papers of the 500 it needs"]
    )
    model: str = Field(description="The model version that made it.", examples=["bundled-2025-04-21"])
    cutoff: date = Field(description="The model learned only labels known before this day.")
    featured: bool = Field(description="True once Hugging Face has listed the paper (the outcome is in).")

    @field_validator("probability", mode="before")
    @classmethod
    def _four_places(cls, probability: float) -> float:
        return round(probability, 4)  # before the range check, as the rounded number is what is shown


class Paper(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [PAPER_EXAMPLE]})

    id: str = Field(description="Public id: the arXiv id when known, else `source:source_id`.")
    arxiv_id: str | None
    version: int | None = Field(description="arXiv version number of the stored metadata.")
    title: str
    authors: list[str]
    abstract: str = Field(description="As published (LaTeX left in).")
    summary: str | None = Field(description="A source's one-line summary (Hugging Face), when known.")
    categories: list[str]
    primary_category: str | None
    published_at: datetime | None = Field(description="First version's submission time (UTC).")
    updated_at: datetime | None = Field(description="This version's time (UTC).")
    announced_date: date | None = Field(description="arXiv listing date.")
    links: PaperLinks
    upvotes: int | None = Field(description="Hugging Face upvotes, when known.")
    comments: int | None
    github_stars: int | None
    topics: list[TopicRef]
    trend_probability: float | None = Field(
        None, description="Chance of being featured on Hugging Face Daily Papers (null: not estimated)."
    )
    trend_prediction: TrendPrediction | None = Field(None, description="The estimate with its reasons.")


class PaperPage(BaseModel):
    items: list[Paper]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null on the last page.")


class ScoreParts(BaseModel):
    parts: dict[str, float] = Field(
        default_factory=dict,
        description="What each signal added to the score (they sum to it).",
        examples=[{"recency": 0.25, "upvotes": 0.12, "topic_momentum": 0.08, "code": 0.1}],
    )
    values: dict[str, float] = Field(
        default_factory=dict, description="Each signal, 0 to 1, before weighting."
    )
    detail: dict[str, Any] = Field(
        default_factory=dict, examples=[{"age_days": 0, "upvotes": 12, "has_code": True}]
    )


class TrendingItem(BaseModel):
    rank: int = Field(examples=[1])
    score: float | None = Field(
        description="Trending score; null before the first trends run.", examples=[0.55]
    )
    components: ScoreParts
    paper: Paper


class Trending(BaseModel):
    window: Literal["day", "week", "month"]
    date: dt.date | None = Field(description="Last day of the window; null when there are no papers at all.")
    start: dt.date | None
    ranked: bool = Field(description="False: no trending scores yet, newest papers first.")
    topic: str | None = Field(description="Topic filter applied (slug).")
    total: int
    page: int
    per_page: int
    items: list[TrendingItem]


class TopicSummary(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "slug": "quantization",
                    "label": "Quantization",
                    "kind": "technique",
                    "parent": None,
                    "subtopics": 0,
                    "status": "active",
                    "size": 120,
                    "momentum": 2.4,
                    "trend_state": "rising",
                    "keywords": ["quantization", "int8", "low-bit"],
                    "pinned": False,
                    "week_count": 14,
                    "weekly": [3, 4, 2, 5, 6, 4, 5, 7, 6, 8, 9, 14],
                }
            ]
        }
    )

    slug: str
    label: str
    kind: str = Field(description="area (a research area), subtopic (inside one area) or technique.")
    parent: str | None = Field(
        None,
        description="Slug of the research area a subtopic belongs to; null for areas and techniques.",
        examples=["natural-language-processing"],
    )
    subtopics: int = Field(0, description="An area's visible subtopics (list them with `?parent=`).")
    status: str = Field(description="active, emerging, dormant or merged.")
    size: int = Field(description="Papers in the topic.")
    momentum: float = Field(
        description="z-score of the comparison (week, 4 weeks or 13 weeks) that decided trend_state."
    )
    trend_state: str = Field(description="emerging, bursting, rising, falling or steady.")
    keywords: list[str]
    pinned: bool
    week_count: int = Field(description="Papers in the last 7 days.")
    weekly: list[int] = Field(description="Papers per week, oldest first (12 weeks).")


class TopicList(BaseModel):
    items: list[TopicSummary]


class MovingPhrase(BaseModel):
    """A title phrase whose share of papers moved, topic or not, as the last trends run found it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "label": "Agent Memory",
                    "state": "emerging",
                    "momentum": 4.2,
                    "explanation": "new and growing fast: 0.30 % of papers in the 13 weeks to 30 Jun 2026 "
                    "(20 of 6,666) against 0.026 % in the 26 weeks before (2 of 7,776), 11×",
                    "as_of": "2026-06-30",
                    "search": "https://papertrend.example.org/search?q=%22Agent+Memory%22",
                }
            ]
        }
    )

    label: str = Field(description="The phrase as titles write it.")
    state: str = Field(
        description="emerging, rising or falling (the topics' test, on the papers whose title writes it)."
    )
    momentum: float = Field(description="z-score of the comparison that decided the state.")
    explanation: str = Field(description="Why, in words and numbers.")
    as_of: str | None = Field(description="The last day with papers that the trends run counted.")
    search: str = Field(description="The site's search for the phrase.")


class MovingPhraseList(BaseModel):
    items: list[MovingPhrase]


class RelatedTopic(BaseModel):
    topic: TopicRef
    shared_papers: int


class WeekCount(BaseModel):
    start: date
    end: date
    count: int
    baseline: float | None = Field(description="Mean of the weeks before; null for the first weeks.")


class TopicDetail(BaseModel):
    slug: str
    label: str
    kind: str
    status: str
    size: int
    momentum: float
    trend_state: str
    keywords: list[str]
    description: str | None
    first_seen: datetime | None
    merged_into: str | None = Field(description="Slug of the topic this one was merged into.")
    trend: dict[str, Any] = Field(
        description="Why the topic is in its state: `explanation` (a sentence), `deciding` (the horizon), "
        "and per horizon (`horizons.week|month|quarter`) its windows, counts, shares, ratio, z and state."
    )
    parent: str | None = Field(
        None,
        description="Slug of the research area a subtopic belongs to; null for areas and techniques.",
        examples=["natural-language-processing"],
    )
    subtopics: list[TopicSummary] = Field(
        default_factory=list,
        description="An area's visible subtopics, largest first; its papers include theirs.",
    )
    weeks: list[WeekCount]
    top_papers: list[Paper]
    newest_papers: list[Paper]
    related: list[RelatedTopic]


class TopicSeries(BaseModel):
    slug: str
    baseline_weeks: int
    weeks: list[WeekCount]


class ScoredPaper(BaseModel):
    score: float | None
    paper: Paper


class SearchResults(BaseModel):
    query: str
    mode: Literal["hybrid", "keyword", "id"] = Field(
        description="hybrid: meaning + words; keyword: words only (no index loaded); id: a paper named by id."
    )
    total: int
    offset: int
    limit: int
    items: list[ScoredPaper]


class SimilarPapers(BaseModel):
    id: str
    available: bool = Field(description="False when the vector index is not loaded on this server.")
    items: list[ScoredPaper]


class JobState(BaseModel):
    job: str
    status: str
    started_at: datetime
    finished_at: datetime | None
    summary: str | None
    error: str | None
    last_ok_at: datetime | None


class SourceInfo(BaseModel):
    source: str
    watermark: str | None
    updated_at: datetime | None


class Announcement(BaseModel):
    today: date = Field(description="Today in US Eastern time.")
    is_announcement_day: bool
    reason: str
    last_announcement: datetime
    next_announcement: datetime


# Read from `app.browse.status.StatusFacts`, whose names it keeps but for `arxiv`.
class Status(BaseModel):
    now: datetime
    papers: int
    papers_last_7_days: int
    topics: int
    subscribers_confirmed: int
    newest_paper_day: date | None
    newest_published_at: datetime | None
    lag_hours: float | None = Field(description="Hours since the newest paper was published upstream.")
    last_ingest_ok_at: datetime | None
    arxiv: Announcement = Field(validation_alias=AliasChoices("arxiv", "announcement"))
    jobs: list[JobState]
    sources: list[SourceInfo]

    @field_validator("lag_hours")
    @classmethod
    def _hundredths(cls, hours: float | None) -> float | None:
        return round(hours, 2) if hours is not None else None
