"""A small made-up corpus whose trends are known: one topic rises, one falls, one stays flat.

Forty weeks of weekday announcements ending on END, with arXiv's rhythm: Tuesday is the busiest
day, a conference-deadline week brings twice the papers, the Christmas weeks almost none. Topics and
paper-topic rows are written directly (no clustering), so the trend step sees exactly these shares
(and each topic's papers write its name in their titles, so title phrases move the same way):

* "Agent Systems" (a subtopic of the area "Language"): 3.4 % of each day's papers until the last
  quarter (13 weeks), then growing in a straight line to 9.9 % on END;
* "Image Retrieval" (a technique): 12 % until the last quarter, then falling to 4 %;
* "Speech Recognition" (an area): 8 % every day, deadline week and holidays included;
* "Language" (an area): every paper that has no other topic.

Everything is deterministic: the same call writes the same rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models import Paper, PaperTopic, Topic

END = date(2026, 6, 30)  # a Tuesday
WEEKS = 40
QUARTER_START = END - timedelta(days=7 * 13 - 1)
PER_WEEKDAY = {0: 34, 1: 60, 2: 44, 3: 38, 4: 40}  # Monday .. Friday
# Each topic's papers write its name in the title, so title phrases move as the topics do.
TITLES = {
    "rising": "Agent Skills in made-up paper",
    "falling": "Image Retrieval in made-up paper",
    "flat": "Speech Recognition in made-up paper",
    "area": "Made-up paper",
}


@dataclass(frozen=True)
class MadeUp:
    rising: int
    falling: int
    flat: int
    area: int
    papers: int


def papers_on(day: date) -> int:
    """Announcements that day: none at weekends, twice in the deadline week, few at Christmas."""
    n = PER_WEEKDAY.get(day.weekday(), 0)
    if date(2026, 5, 11) <= day <= date(2026, 5, 15):  # a conference deadline
        n *= 2
    if date(2025, 12, 24) <= day <= date(2026, 1, 2):
        n //= 6
    return n


def shares_on(day: date) -> dict[str, float]:
    """The made-up truth: each topic's share of that day's papers."""
    progress = max(0.0, (day - QUARTER_START).days / (END - QUARTER_START).days)
    return {"rising": 0.034 + (0.099 - 0.034) * progress, "falling": 0.12 - 0.08 * progress, "flat": 0.08}


def insert_made_up(session: Session, *, end: date = END, prefix: str = "made") -> MadeUp:
    """Papers of the forty weeks up to `end` (of the same made-up history) and their topics."""
    area = Topic(slug=f"{prefix}-language", label="Language", kind="area", keywords=["language"])
    session.add(area)
    session.flush()
    rising = Topic(
        slug=f"{prefix}-agents", label="Agent Systems", kind="subtopic", parent_id=area.id, keywords=["agent"]
    )
    falling = Topic(slug=f"{prefix}-retrieval", label="Image Retrieval", kind="technique", keywords=["image"])
    flat = Topic(slug=f"{prefix}-speech", label="Speech Recognition", kind="area", keywords=["speech"])
    session.add_all([rising, falling, flat])
    session.flush()
    topic_of = {"rising": rising.id, "falling": falling.id, "flat": flat.id}

    rows: list[dict[str, object]] = []
    members: list[str] = []
    day = end - timedelta(days=7 * WEEKS - 1)
    while day <= end:
        n = papers_on(day)
        wanted = {name: round(share * n) for name, share in shares_on(day).items()}
        for i in range(n):
            source_id = f"{prefix}-{day.isoformat()}-{i:03d}"
            # The first papers of the day go to the rising topic, the next to the falling one, ...
            member = next((name for name, k in _cumulative(wanted) if i < k), "area")
            members.append(member)
            rows.append(
                {
                    "source": "made_up",
                    "source_id": source_id,
                    "title": f"{TITLES[member]} {i} of {day.isoformat()}",
                    "abstract": "A paper of the made-up trend corpus.",
                    "announced_date": day,
                    "text_hash": source_id,
                }
            )
        day += timedelta(days=1)
    for start in range(0, len(rows), 2000):
        session.execute(insert(Paper), rows[start : start + 2000])
    ids = dict(
        session.execute(
            select(Paper.source_id, Paper.id).where(
                Paper.source == "made_up", Paper.source_id.like(f"{prefix}-%")
            )
        ).all()
    )
    links = [
        {"paper_id": ids[row["source_id"]], "topic_id": topic_of.get(name, area.id), "score": 0.9}
        for row, name in zip(rows, members, strict=True)
    ]
    for start in range(0, len(links), 5000):
        session.execute(insert(PaperTopic), links[start : start + 5000])
    for topic in (area, rising, falling, flat):
        topic.size = sum(1 for link in links if link["topic_id"] == topic.id)
    session.flush()
    return MadeUp(rising.id, falling.id, flat.id, area.id, len(rows))


def expected(name: str, start: date, end: date) -> tuple[int, int]:
    """(papers of the topic, all papers) announced from `start` to `end`, from the made-up truth."""
    count = total = 0
    day = max(start, END - timedelta(days=7 * WEEKS - 1))
    while day <= end:
        n = papers_on(day)
        total += n
        count += round(shares_on(day)[name] * n)
        day += timedelta(days=1)
    return count, total


def _cumulative(wanted: dict[str, int]) -> list[tuple[str, int]]:
    out, total = [], 0
    for name in ("rising", "falling", "flat"):
        total += wanted[name]
        out.append((name, total))
    return out


def add_papers(session: Session, topic_id: int, days: list[date], per_day: int, *, prefix: str) -> int:
    """`per_day` more papers of one topic on each of `days` (to show what later papers change)."""
    rows = [
        {
            "source": "made_up",
            "source_id": f"{prefix}-{day.isoformat()}-{i:03d}",
            "title": f"Late paper {i} of {day.isoformat()}",
            "abstract": "Added after the fact.",
            "announced_date": day,
            "text_hash": f"{prefix}-{day.isoformat()}-{i:03d}",
        }
        for day in days
        for i in range(per_day)
    ]
    session.execute(insert(Paper), rows)
    ids = session.scalars(select(Paper.id).where(Paper.source_id.like(f"{prefix}-%"))).all()
    session.execute(
        insert(PaperTopic), [{"paper_id": pid, "topic_id": topic_id, "score": 0.9} for pid in ids]
    )
    session.flush()
    return len(rows)
