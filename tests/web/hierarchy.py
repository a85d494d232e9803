"""Two levels of topics on top of the site's seeded data, written with the factories.

An area "Natural language processing" with three subtopics: "LLM agents" (rising, with the trend
figures of the seed's rising topic), "Machine translation" (falling) and one the operator hid; the
seeded area "Representation learning" gets the subtopic "Contrastive learning". Every paper of a
subtopic also carries its area, except one LLM-agents paper placed in the subtopic alone (an area
must still show it). Daily counts feed the sparklines.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session

from app.models import PaperTopic, Topic, TopicDailyCount
from tests.factories import add_paper, add_topic
from tests.web.seed import FALLING_TREND, REF_DAY, RISING_TREND, Seeded

AREA = "natural-language-processing"
AGENTS = "llm-agents"
TRANSLATION = "machine-translation"
HIDDEN_SUB = "hidden-subtopic"
CONTRASTIVE = "contrastive-learning"
SUBTOPIC_ONLY_TITLE = "Tool-using LLM agents placed in their subtopic alone"


@dataclass
class Hierarchy:
    topics: dict[str, int] = field(default_factory=dict)  # slug -> id
    papers: dict[str, int] = field(default_factory=dict)  # title -> id


def add_hierarchy(session: Session, seeded: Seeded) -> Hierarchy:
    out = Hierarchy()
    area = add_topic(
        session,
        "Natural language processing",
        slug=AREA,
        momentum=1.1,
        trend_state="steady",
        keywords=["language", "text", "llm"],
    )
    agents = add_topic(
        session,
        "LLM agents",
        kind="subtopic",
        parent=area,
        slug=AGENTS,
        momentum=2.9,
        trend_state="rising",
        keywords=["agents", "tool use", "planning"],
        trend=RISING_TREND,
    )
    translation = add_topic(
        session,
        "Machine translation",
        kind="subtopic",
        parent=area,
        slug=TRANSLATION,
        momentum=-1.5,
        trend_state="falling",
        keywords=["translation", "bilingual"],
        trend=FALLING_TREND,
    )
    hidden = add_topic(session, "Hidden subtopic", kind="subtopic", parent=area, slug=HIDDEN_SUB, hidden=True)
    representation = session.get(Topic, seeded.topics["representation-learning"])
    assert representation is not None
    contrastive = add_topic(
        session, "Contrastive learning", kind="subtopic", parent=representation, slug=CONTRASTIVE
    )
    for topic in (area, agents, translation, hidden, contrastive):
        out.topics[topic.slug] = topic.id

    specs = [
        # title, days before the reference day, subtopic, also in the area
        ("Planning with LLM agents in web environments", 0, agents, True),
        ("Multi-agent debate for factual answers", 2, agents, True),
        ("Memory for long-horizon LLM agents", 9, agents, True),
        (SUBTOPIC_ONLY_TITLE, 1, agents, False),
        ("Low-resource machine translation with pivot languages", 3, translation, True),
        ("Document-level machine translation evaluation", 15, translation, True),
        ("A subtopic the operator hid", 4, hidden, True),
        ("Contrastive pretraining of sentence encoders", 2, contrastive, False),
    ]
    counts: dict[tuple[int, object], int] = {}
    for i, (title, age, sub, in_area) in enumerate(specs):
        day = REF_DAY - timedelta(days=age)
        paper = add_paper(session, title, f"Abstract of {title.lower()}.", arxiv_id=f"2611.2{i:04d}", day=day)
        out.papers[title] = paper.id
        owners = [(sub, 0.8)] + ([(area, 0.7)] if in_area else [])
        if sub is contrastive:
            owners.append((representation, 0.6))
        for topic, score in owners:
            session.add(PaperTopic(paper_id=paper.id, topic_id=topic.id, score=score))
            counts[(topic.id, day)] = counts.get((topic.id, day), 0) + 1
    for (topic_id, day), n in counts.items():
        existing = session.get(TopicDailyCount, (topic_id, day))
        if existing is not None:
            existing.count += n
        else:
            session.add(TopicDailyCount(topic_id=topic_id, day=day, count=n, share=0.1))
    for topic in (area, agents, translation, hidden, contrastive, representation):
        topic.size = sum(n for (t, _), n in counts.items() if t == topic.id) + (
            topic.size if topic is representation else 0
        )
    session.flush()
    return out
