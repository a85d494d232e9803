"""Trend read model: which topics and title phrases are rising and falling, with the reason the
trends step stored.

The trends step (`app.topics.trends`) writes each topic's state, momentum and explanation
(`Topic.trend`: per horizon the windows, counts, shares, ratio and their words); the trending page
and topic pages show them through `templates/partials/trend_explain.html`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.browse.cards import chip, visible_topic
from app.browse.types import TopicChip
from app.models import Topic
from app.models.statuses import TopicStatus
from app.topics import queries
from app.topics.trending import TrendParams
from app.topics.trends import trend_params

if TYPE_CHECKING:
    from app.config import Settings

UP_STATES = ("emerging", "bursting", "rising")
HORIZONS = ("week", "month", "quarter")
LEANING = 3  # steady topics shown with their figures when nothing rises or falls


def configured_trend_params(settings: Settings) -> TrendParams:
    """The trend tunables the settings name (TREND_BASELINE_WEEKS, TREND_MIN_COUNT[_MONTH|_QUARTER])."""
    return trend_params(
        baseline_weeks=settings.trend_baseline_weeks,
        min_count=settings.trend_min_count,
        min_count_month=settings.trend_min_count_month,
        min_count_quarter=settings.trend_min_count_quarter,
    )


@dataclass(frozen=True)
class TopicMove:
    """A topic with its state and why: the sentence and, per horizon, the stored figures."""

    topic: TopicChip
    state: str
    explanation: str
    summary: str  # the explanation without paper counts
    as_of: str | None
    horizons: list[dict[str, Any]] = field(default_factory=list)
    parent: TopicChip | None = None  # a subtopic's area, so a reader knows where it sits


def topic_move(topic: Topic, parent: Topic | None = None) -> TopicMove:
    trend = dict(topic.trend or {})
    stored = trend.get("horizons") or {}
    return TopicMove(
        topic=chip(topic, parent_slug=parent.slug if parent is not None else None),
        parent=chip(parent) if parent is not None else None,
        state=topic.trend_state or "steady",
        explanation=str(trend.get("explanation") or ""),
        summary=str(trend.get("summary") or trend.get("explanation") or ""),
        as_of=trend.get("as_of"),
        horizons=[{"name": name, **stored[name]} for name in HORIZONS if isinstance(stored.get(name), dict)],
    )


@dataclass(frozen=True)
class TopicMoves:
    """What the trending page lists: topics rising (emerging, bursting) and falling, and pinned ones;
    when none moves, the steady topics whose share changed most (`leaning`), so the page still says
    in numbers where things stand."""

    up: list[TopicMove]
    down: list[TopicMove]
    pinned: list[TopicChip]
    leaning: list[TopicMove] = field(default_factory=list)
    phrases: list[PhraseMove] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.up or self.down or self.pinned or self.leaning or self.phrases)


@dataclass(frozen=True)
class PhraseMove:
    """A title phrase whose share of papers moved (topic or not), with the reason in numbers."""

    label: str
    state: str
    summary: str
    as_of: str | None
    explanation: str = ""
    momentum: float = 0.0


def moving_phrases(session: Session, *, limit: int = 8) -> list[PhraseMove]:
    """The moving title phrases of the last trends run, what moved most first."""
    return [
        PhraseMove(
            label=p.label,
            state=p.state,
            summary=str(p.trend.get("summary") or p.trend.get("explanation") or ""),
            as_of=p.trend.get("as_of"),
            explanation=str(p.trend.get("explanation") or ""),
            momentum=float(p.momentum),
        )
        for p in queries.stored_phrase_trends(session, limit=limit)
    ]


def moving_topics(session: Session, *, limit: int = 5) -> TopicMoves:
    """Visible live topics the last trends run found moving, strongest first; pinned ones apart."""
    live = select(Topic).where(visible_topic(), Topic.status != TopicStatus.DORMANT)
    up = session.scalars(
        live.where(Topic.trend_state.in_(UP_STATES)).order_by(Topic.momentum.desc(), Topic.id).limit(limit)
    ).all()
    down = session.scalars(
        live.where(Topic.trend_state == "falling").order_by(Topic.momentum.asc(), Topic.id).limit(limit)
    ).all()
    leaning: list[Topic] = []
    if not up and not down:
        steady = live.where(Topic.trend_state == "steady").order_by(func.abs(Topic.momentum).desc(), Topic.id)
        leaning = [t for t in session.scalars(steady.limit(limit)).all() if (t.trend or {}).get("summary")]
        leaning = leaning[:LEANING]
    shown = {t.id for t in (*up, *down)}
    pinned = session.scalars(live.where(Topic.pinned.is_(True)).order_by(Topic.label, Topic.id)).all()
    parent_ids = {t.parent_id for t in (*up, *down, *leaning) if t.parent_id is not None}
    parents = (
        {p.id: p for p in session.scalars(select(Topic).where(Topic.id.in_(parent_ids), visible_topic()))}
        if parent_ids
        else {}
    )
    return TopicMoves(
        up=[topic_move(t, parents.get(t.parent_id or 0)) for t in up],
        down=[topic_move(t, parents.get(t.parent_id or 0)) for t in down],
        pinned=[chip(t) for t in pinned if t.id not in shown],
        leaning=[topic_move(t, parents.get(t.parent_id or 0)) for t in leaning],
        phrases=moving_phrases(session),
    )
