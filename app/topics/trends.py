"""The trends step: per-topic daily counts, each topic's momentum and state, per-paper trending scores.

A service: reads assignments and papers, runs the pure maths of `app.topics.trending`, replaces
TopicDailyCount and PaperScore rows and updates Topic.momentum/trend_state/trend. Never commits.
Everything is recomputed from the assignments, so running it twice gives the same rows.
"""

from __future__ import annotations

import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from app.models.statuses import TopicStatus
from app.topics import queries
from app.topics.trending import (
    WINDOW_DAYS,
    PaperSignals,
    TrendParams,
    daily_topic_counts,
    daily_totals,
    score_papers,
    topic_trend,
    weekly_sums,
)

BURST_HISTORY_WEEKS = 26


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
    dry_run: bool = False
    seconds: float = 0.0

    def summary(self) -> str:
        if self.as_of is None:
            return "no dated papers: nothing to trend"
        scores = ", ".join(f"{n} {w}" for w, n in self.scores.items())
        return (
            f"trends as of {self.as_of}: {self.topics} topics, {len(self.rising)} rising, "
            f"{len(self.falling)} falling, {len(self.bursting)} bursting, {len(self.emerging)} emerging; "
            f"paper scores: {scores} ({self.seconds:.1f}s){' [dry run]' if self.dry_run else ''}"
        )

    def as_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["as_of"] = self.as_of.isoformat() if self.as_of else None
        return out


def reference_day(days: list[date], now: datetime) -> date | None:
    """The latest day with papers, not after today: trends read "as of" that day.

    Anchoring on the data rather than the clock keeps the windows full when ingestion paused
    (a weekend, an outage, a demo database); the day is reported so nobody is misled.
    """
    today = now.date()
    past = [d for d in days if d <= today]
    return max(past) if past else None


def compute_trends(
    session: Session,
    *,
    now: datetime,
    baseline_weeks: int = 8,
    min_count: int = 5,
    dry_run: bool = False,
    params: TrendParams | None = None,
) -> TrendsReport:
    """Fill TopicDailyCount, Topic.momentum/trend_state/trend and PaperScore for day, week and month."""
    started = time.perf_counter()
    report = TrendsReport(dry_run=dry_run)
    p = params or TrendParams(baseline_weeks=baseline_weeks, min_count=min_count)
    facts = {f.paper_id: f for f in queries.paper_facts(session) if f.day is not None}
    day_of: dict[int, date] = {pid: f.day for pid, f in facts.items() if f.day is not None}
    ref = reference_day(list(day_of.values()), now)
    report.as_of = ref
    topics = [t for t in queries.all_topics(session) if t.status != TopicStatus.MERGED]
    report.topics = len(topics)
    pairs = [(pid, tid, score) for pid, tid, score in queries.assignments(session) if pid in day_of]

    totals = daily_totals(day_of.values())
    per_topic = daily_topic_counts((tid, day_of[pid]) for pid, tid, _ in pairs)
    daily_rows = [
        (tid, day, n, n / totals[day]) for tid, days in per_topic.items() for day, n in sorted(days.items())
    ]
    report.daily_rows = len(daily_rows)

    momentum: dict[int, float] = {}
    trend_rows: dict[int, dict[str, Any]] = {}
    if ref is not None:
        history = max(BURST_HISTORY_WEEKS, p.baseline_weeks + 1)
        weekly_totals = weekly_sums(totals, end=ref, weeks=history)
        for topic in topics:
            weekly = weekly_sums(per_topic.get(topic.id, {}), end=ref, weeks=history)
            first = _first_nonempty(weekly_totals)
            trend = topic_trend(
                weekly,
                weekly_totals,
                params=p,
                previous_state=topic.trend_state,
                is_new=topic.status == TopicStatus.EMERGING,
                burst_counts=weekly[first:],
                burst_totals=weekly_totals[first:],
            )
            if topic.status == TopicStatus.DORMANT:  # no members now: its history is not a trend
                trend = replace(trend, momentum=0.0, state="steady", bursting=False, emerging=False)
            momentum[topic.id] = trend.momentum
            trend_rows[topic.id] = {**trend.as_dict(), "as_of": ref.isoformat(), "weekly": weekly[-12:]}
            bucket = {"rising": report.rising, "falling": report.falling, "bursting": report.bursting}
            target = bucket.get(trend.state, report.emerging if trend.state == "emerging" else None)
            if target is not None and not topic.hidden:
                target.append(topic.label)

    # Paper scores: hidden, dormant and merged topics lend no momentum.
    visible = {t.id for t in topics if not t.hidden and t.status != TopicStatus.DORMANT}
    paper_topics: dict[int, list[tuple[float, float]]] = defaultdict(list)
    for pid, tid, score in pairs:
        if tid in visible:
            paper_topics[pid].append((score, momentum.get(tid, 0.0)))
    windows: dict[str, list[tuple[int, float, dict[str, Any]]]] = {}
    if ref is not None:
        month_start = ref - timedelta(days=max(WINDOW_DAYS.values()) - 1)
        signals = [
            PaperSignals(f.paper_id, f.day, f.upvotes, f.has_code, tuple(paper_topics.get(f.paper_id, ())))
            for f in facts.values()
            if f.day is not None and month_start <= f.day <= ref
        ]
        for window in WINDOW_DAYS:
            scored = score_papers(signals, window=window, ref_day=ref)
            windows[window] = [(s.paper_id, s.score, s.components()) for s in scored]
            report.scores[window] = len(scored)

    if not dry_run:
        queries.replace_daily_counts(session, daily_rows)
        for topic in topics:
            if topic.id in trend_rows:
                topic.momentum = momentum[topic.id]
                topic.trend_state = trend_rows[topic.id]["state"]
                topic.trend = trend_rows[topic.id]
                topic.trend_updated_at = now
        for window in WINDOW_DAYS:
            queries.replace_paper_scores(session, window, windows.get(window, []), now=now)
        session.flush()
    report.seconds = time.perf_counter() - started
    return report


def _first_nonempty(totals: list[int]) -> int:
    """Index of the first week with any paper: weeks before the data began are not evidence."""
    for i, n in enumerate(totals):
        if n:
            return i
    return len(totals)
