"""The trends step and the as-of view: per-topic daily counts, each topic's horizons and state, paper scores.

A service: reads papers, assignments and topics, runs the pure maths of `app.topics.trending`.
`topic_trends` computes the view as of a day from the papers announced up to that day only and
writes nothing (`papertrend trends --as-of`); `compute_trends` computes it as of the latest data and
replaces TopicDailyCount and PaperScore rows and Topic.momentum/trend_state/trend (the pipeline's
step). Never commits. Everything is recomputed from the assignments, so running it twice gives the
same rows.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.models import Topic
from app.models.statuses import TopicStatus
from app.topics import queries
from app.topics.phrase_trends import PhraseTrend, phrase_trends
from app.topics.trending import (
    WINDOW_DAYS,
    PaperSignals,
    TopicTrend,
    TrendParams,
    daily_topic_counts,
    daily_totals,
    score_papers,
    topic_trend,
    weekly_sums,
)

LIVE_STATUSES = frozenset({TopicStatus.ACTIVE, TopicStatus.EMERGING})
# Order of the listing: what moved first, then the rest.
STATE_ORDER = {"emerging": 0, "bursting": 1, "rising": 2, "falling": 3, "steady": 4}


@dataclass
class TrendsReport:
    as_of: date | None = None
    topics: int = 0
    daily_rows: int = 0
    scores: dict[str, int] = field(default_factory=dict)
    rising: list[str] = field(default_factory=list)
    falling: list[str] = field(default_factory=list)
    bursting: list[str] = field(default_factory=list)
    emerging: list[str] = field(default_factory=list)
    phrases: list[str] = field(default_factory=list)  # moving title phrases, what moved most first
    dry_run: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        if self.as_of is None:
            return "no dated papers: nothing to trend"
        scores = ", ".join(f"{n} {w}" for w, n in self.scores.items())
        return (
            f"trends as of {self.as_of}: {self.topics} topics, {len(self.rising)} rising, "
            f"{len(self.falling)} falling, {len(self.bursting)} bursting, {len(self.emerging)} emerging; "
            f"{len(self.phrases)} title phrases moving; paper scores: {scores} "
            f"({self.seconds:.1f}s){' [dry run]' if self.dry_run else ''}"
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        return out


@dataclass(frozen=True)
class TopicTrendRow:
    """One topic as `papertrend trends` lists it."""

    id: int
    slug: str
    label: str
    kind: str
    parent: str | None
    status: str
    hidden: bool
    trend: TopicTrend

    @property
    def live(self) -> bool:
        return not self.hidden and self.status in LIVE_STATUSES

    def as_dict(self) -> dict[str, Any]:
        data = self.trend.as_dict()
        return {
            "id": self.id,
            "slug": self.slug,
            "label": self.label,
            "kind": self.kind,
            "parent": self.parent,
            "state": data["state"],
            "momentum": data["momentum"],
            "explanation": data["explanation"],
            "deciding": data["deciding"],
            "horizons": data["horizons"],
        }


@dataclass(frozen=True)
class TrendsView:
    """Every topic's trend as of a day. `reference_day` is the last day with papers up to `as_of`."""

    as_of: date | None
    reference_day: date | None
    papers: int
    rows: list[TopicTrendRow]
    phrases: list[PhraseTrend] = field(default_factory=list)

    def live(self) -> list[TopicTrendRow]:
        """Visible, live topics: what moved first (strongest first), then steady ones by label."""
        rows = [r for r in self.rows if r.live]
        return sorted(
            rows,
            key=lambda r: (
                STATE_ORDER.get(r.trend.state, 9),
                r.trend.momentum if r.trend.state == "falling" else -r.trend.momentum,
                r.label.casefold(),
                r.id,
            ),
        )

    def as_dict(self) -> dict[str, Any]:
        live = self.live()
        counts = {state: sum(1 for r in live if r.trend.state == state) for state in STATE_ORDER}
        return {
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "reference_day": self.reference_day.isoformat() if self.reference_day else None,
            "papers": self.papers,
            "states": counts,
            "topics": [r.as_dict() for r in live],
            "phrases": [p.as_dict() for p in self.phrases],
        }


def reference_day(days: Sequence[date], limit: date) -> date | None:
    """The latest day with papers, not after `limit`: trends read "as of" that day.

    Anchoring on the data rather than the clock keeps the windows full when ingestion paused
    (a weekend, an outage, a demo database); the day is reported so nobody is misled.
    """
    past = [d for d in days if d <= limit]
    return max(past) if past else None


def trend_params(
    *, baseline_weeks: int = 8, min_count: int = 5, min_count_month: int = 10, min_count_quarter: int = 20
) -> TrendParams:
    """The tunables the settings name (TREND_BASELINE_WEEKS, TREND_MIN_COUNT[_MONTH|_QUARTER])."""
    return TrendParams(
        baseline_weeks=baseline_weeks,
        min_count=min_count,
        min_count_month=min_count_month,
        min_count_quarter=min_count_quarter,
    )


@dataclass
class _Data:
    """Papers up to the reference day with their days, and their (paper, topic, score) assignments."""

    facts: dict[int, queries.PaperFacts]
    day_of: dict[int, date]
    pairs: list[tuple[int, int, float]]
    ref: date | None


def _load(session: Session, limit: date) -> _Data:
    facts = {f.paper_id: f for f in queries.paper_facts(session) if f.day is not None and f.day <= limit}
    day_of = {pid: f.day for pid, f in facts.items() if f.day is not None}
    ref = reference_day(list(day_of.values()), limit)
    pairs = [(pid, tid, score) for pid, tid, score in queries.assignments(session) if pid in day_of]
    return _Data(facts, day_of, pairs, ref)


def _phrases(data: _Data, params: TrendParams) -> list[PhraseTrend]:
    """The title phrases moving on the reference day (`app.topics.phrase_trends`)."""
    if data.ref is None:
        return []
    facts = list(data.facts.values())
    days = [data.day_of[f.paper_id] for f in facts]
    return phrase_trends([f.title for f in facts], days, end=data.ref, params=params)


def _trends(topics: Sequence[Topic], data: _Data, params: TrendParams) -> dict[int, TopicTrend]:
    """Each topic's trend on the reference day from weekly sums ending on it."""
    if data.ref is None:
        return {}
    totals = daily_totals(data.day_of.values())
    per_topic = daily_topic_counts((tid, data.day_of[pid]) for pid, tid, _ in data.pairs)
    weeks = params.history_weeks
    weekly_totals = weekly_sums(totals, end=data.ref, weeks=weeks)
    out: dict[int, TopicTrend] = {}
    for topic in topics:
        weekly = weekly_sums(per_topic.get(topic.id, {}), end=data.ref, weeks=weeks)
        trend = topic_trend(weekly, weekly_totals, end=data.ref, params=params)
        if topic.status == TopicStatus.DORMANT:  # no members now: its history is not a trend
            trend = replace(trend, state="steady", momentum=0.0, deciding=None, bursting=False, young=False)
        out[topic.id] = trend
    return out


def _rows(topics: Sequence[Topic], trends: dict[int, TopicTrend]) -> list[TopicTrendRow]:
    labels = {t.id: t.label for t in topics}
    return [
        TopicTrendRow(
            id=t.id,
            slug=t.slug,
            label=t.label,
            kind=t.kind,
            parent=labels.get(t.parent_id) if t.parent_id else None,
            status=t.status,
            hidden=bool(t.hidden),
            trend=trends[t.id],
        )
        for t in topics
        if t.id in trends
    ]


def topic_trends(
    session: Session, *, as_of: date | None, today: date, params: TrendParams | None = None
) -> TrendsView:
    """Every topic's trend from the papers announced up to `as_of` (default: today); writes nothing.

    Papers announced after `as_of` have no influence: they are left out before anything is counted.
    Topics are today's (ids, labels, assignments of the earlier papers).
    """
    p = params or TrendParams()
    limit = min(as_of, today) if as_of is not None else today
    data = _load(session, limit)
    topics = [t for t in queries.all_topics(session) if t.status != TopicStatus.MERGED]
    rows = _rows(topics, _trends(topics, data, p))
    return TrendsView(as_of, data.ref, len(data.day_of), rows, _phrases(data, p))


def compute_trends(
    session: Session,
    *,
    now: datetime,
    baseline_weeks: int = 8,
    min_count: int = 5,
    min_count_month: int = 10,
    min_count_quarter: int = 20,
    dry_run: bool = False,
    params: TrendParams | None = None,
) -> TrendsReport:
    """Fill TopicDailyCount, Topic.momentum/trend_state/trend and PaperScore for day, week and month."""
    p = params or trend_params(
        baseline_weeks=baseline_weeks,
        min_count=min_count,
        min_count_month=min_count_month,
        min_count_quarter=min_count_quarter,
    )
    return refresh_trends(session, now=now, params=p, dry_run=dry_run)[0]


def refresh_trends(
    session: Session, *, now: datetime, params: TrendParams, dry_run: bool = False
) -> tuple[TrendsReport, TrendsView]:
    """`compute_trends`, also returning the view it stored (as of the latest data up to `now`)."""
    started = time.perf_counter()
    report = TrendsReport(dry_run=dry_run)
    data = _load(session, now.date())
    report.as_of = data.ref
    topics = [t for t in queries.all_topics(session) if t.status != TopicStatus.MERGED]
    report.topics = len(topics)

    totals = daily_totals(data.day_of.values())
    per_topic = daily_topic_counts((tid, data.day_of[pid]) for pid, tid, _ in data.pairs)
    daily_rows = [
        (tid, day, n, n / totals[day]) for tid, days in per_topic.items() for day, n in sorted(days.items())
    ]
    report.daily_rows = len(daily_rows)

    trends = _trends(topics, data, params)
    buckets = {
        "rising": report.rising,
        "falling": report.falling,
        "bursting": report.bursting,
        "emerging": report.emerging,
    }
    for topic in topics:
        trend = trends.get(topic.id)
        if trend is not None and trend.state in buckets and not topic.hidden:
            buckets[trend.state].append(topic.label)
    phrases = _phrases(data, params)
    report.phrases = [p.label for p in phrases]

    # Paper scores: hidden, dormant and merged topics lend no momentum.
    visible = {t.id for t in topics if not t.hidden and t.status != TopicStatus.DORMANT}
    paper_topics: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for pid, tid, score in data.pairs:
        if tid in visible and tid in trends:
            paper_topics[pid].append((score, trends[tid].momentum))
    windows: dict[str, list[tuple[int, float, dict[str, Any]]]] = {}
    if data.ref is not None:
        month_start = data.ref - timedelta(days=max(WINDOW_DAYS.values()) - 1)
        signals = [
            PaperSignals(f.paper_id, f.day, f.upvotes, f.has_code, tuple(paper_topics.get(f.paper_id, ())))
            for f in data.facts.values()
            if f.day is not None and month_start <= f.day <= data.ref
        ]
        for window in WINDOW_DAYS:
            scored = score_papers(signals, window=window, ref_day=data.ref)
            windows[window] = [(s.paper_id, s.score, s.components()) for s in scored]
            report.scores[window] = len(scored)

    if not dry_run:
        queries.replace_daily_counts(session, daily_rows)
        for topic in topics:
            trend = trends.get(topic.id)
            if trend is None or data.ref is None:
                continue
            stored = trend.as_dict()
            stored["as_of"] = data.ref.isoformat()
            stored["weekly"] = weekly_sums(per_topic.get(topic.id, {}), end=data.ref, weeks=12)
            topic.momentum = trend.momentum
            topic.trend_state = trend.state
            topic.trend = stored
            topic.trend_updated_at = now
        for window in WINDOW_DAYS:
            queries.replace_paper_scores(session, window, windows.get(window, []), now=now)
        queries.replace_phrase_trends(session, _phrase_rows(phrases, data.ref, now))
        session.flush()
    report.seconds = time.perf_counter() - started
    return report, TrendsView(None, data.ref, len(data.day_of), _rows(topics, trends), phrases)


def _phrase_rows(phrases: Sequence[PhraseTrend], ref: date | None, now: datetime) -> list[dict[str, Any]]:
    if ref is None:
        return []
    return [
        {
            "key": p.key,
            "label": p.label,
            "state": p.trend.state,
            "momentum": p.trend.momentum,
            "position": i,
            "trend": {**p.trend.as_dict(), "as_of": ref.isoformat()},
            "as_of": ref,
            "computed_at": now,
        }
        for i, p in enumerate(phrases)
    ]
