"""What the topic model says about a paper's topics, as of a day: the one place that reads it.

Reads the paper-topic fits (`PaperTopic.score`) and the topics' papers per day
(`TopicDailyCount`), and hands them to the pure `momentum.paper_momentum`, so the momentum of a
paper's topics is the one its announcement morning knew (days before it only). Also names the
best-fitting topic that was rising then, for the reasons in words. The topic model may change how
it stores topics and trends: only this module then needs to follow.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from app.early.momentum import BASELINE_DAYS, RECENT_DAYS, paper_momentum, topic_momentum
from app.models import Paper, PaperTopic, Topic, TopicDailyCount

IN_CHUNK = 900
RISING = 0.5  # log2 share ratio: 40 % more of the papers than over the previous weeks


@dataclass(frozen=True)
class TopicInput:
    momentum: float | None  # None: no topic of the paper had counts before its day
    rising_topic: str | None  # label of the best-fitting topic that was rising that morning


def topic_inputs(session: Session, papers: Sequence[tuple[int, date]]) -> dict[int, TopicInput]:
    """The topic input of each (paper id, day); papers without topics are left out."""
    if not papers:
        return {}
    fits: dict[int, dict[int, float]] = defaultdict(dict)
    labels: dict[int, str] = {}
    ids = [pid for pid, _ in papers]
    for start in range(0, len(ids), IN_CHUNK):
        rows = session.execute(
            select(PaperTopic.paper_id, PaperTopic.topic_id, PaperTopic.score, Topic.label)
            .join(Topic, Topic.id == PaperTopic.topic_id)
            .where(PaperTopic.paper_id.in_(ids[start : start + IN_CHUNK]), Topic.hidden.is_(False))
        ).all()
        for pid, tid, score, label in rows:
            fits[int(pid)][int(tid)] = float(score)
            labels[int(tid)] = str(label)
    if not fits:
        return {}
    days = [d for _, d in papers]
    first = min(days) - timedelta(days=RECENT_DAYS + BASELINE_DAYS)
    last = max(days)
    topic_ids = sorted({t for f in fits.values() for t in f})
    counts: dict[int, dict[date, int]] = defaultdict(dict)
    for start in range(0, len(topic_ids), IN_CHUNK):
        for tid, day, count in session.execute(
            select(TopicDailyCount.topic_id, TopicDailyCount.day, TopicDailyCount.count).where(
                TopicDailyCount.topic_id.in_(topic_ids[start : start + IN_CHUNK]),
                and_(TopicDailyCount.day >= first, TopicDailyCount.day < last),
            )
        ):
            counts[int(tid)][day] = int(count)
    everything: dict[date, int] = {
        day: int(n)
        for day, n in session.execute(
            select(Paper.announced_date, func.count())
            .where(Paper.announced_date >= first, Paper.announced_date < last)
            .group_by(Paper.announced_date)
        )
        if day is not None
    }
    cache: dict[tuple[int, date], float | None] = {}
    out: dict[int, TopicInput] = {}
    for pid, day in papers:
        paper_fits = fits.get(pid)
        if not paper_fits:
            continue
        value = paper_momentum(paper_fits, counts, everything, day, cache)
        rising = None
        for tid, _ in sorted(paper_fits.items(), key=lambda kv: -kv[1]):
            if tid in counts:
                m = (
                    cache.get((tid, day))
                    if (tid, day) in cache
                    else topic_momentum(counts[tid], everything, day)
                )
                if m is not None and m >= RISING:
                    rising = labels.get(tid)
                    break
        out[pid] = TopicInput(value, rising)
    return out
