"""From what a subscriber told us to the `Profile` the ranking reads: pure, on plain values.

Rules:
- Followed topics: a subtopic or a technique weighs 1; an area weighs `area_weight` (it is broad:
  its whole breadth is rarely the interest), and the subtopics under a followed area count for it
  with the area's weight. A muted topic is never followed.
- Feedback: "more like this" and seed papers are liked, "less like this" disliked, and all of
  them feed `learning.learn` (the Rocchio direction and learned words) and the ranking's trust in
  each of the subscriber's signals (`selection`); "mute" removes a topic.
- Named interests keep their own keywords, text and vector (one digest section each).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from app.digest.learning import Marked, learn
from app.digest.selection import Candidate, NamedInterest, Profile, Vector


@dataclass(frozen=True)
class TopicKind:
    kind: str  # area | subtopic | technique
    parent_id: int | None = None


@dataclass(frozen=True)
class MarkedPaper:
    """What the ranking needs of a paper the subscriber marked."""

    title: str
    authors: tuple[str, ...] = ()
    topics: dict[int, float] = field(default_factory=dict)  # topic id → the paper's score in it
    abstract: str = ""


@dataclass(frozen=True)
class Told:
    """Everything one subscriber set or did, as plain values."""

    topic_ids: frozenset[int] = frozenset()
    keywords: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    interest_text: str = ""
    interest: Vector | None = None
    authors: tuple[str, ...] = ()
    feedback: tuple[tuple[str, int | None, int | None], ...] = ()  # (kind, paper id, topic id)
    interests: tuple[NamedInterest, ...] = ()
    max_papers: int = 10
    include_trending: bool = True
    include_likely: bool = False


def topic_weights(
    followed: frozenset[int], kinds: dict[int, TopicKind], area_weight: float
) -> dict[int, float]:
    """Followed topic → weight, with the subtopics of followed areas added (see the module rules)."""
    out: dict[int, float] = {}
    for t in followed:
        kind = kinds.get(t, TopicKind("area")).kind
        out[t] = area_weight if kind == "area" else 1.0
    for t, k in kinds.items():
        if k.kind == "subtopic" and k.parent_id in followed and t not in out:
            out[t] = area_weight
    return out


def make_profile(
    told: Told,
    kinds: dict[int, TopicKind],
    vectors: dict[int, Vector],
    marked: dict[int, MarkedPaper],
    area_weight: float,
) -> Profile:
    """The ranking profile of one subscriber; `marked` describes the papers they marked."""
    muted = frozenset(t for k, _, t in told.feedback if k == "mute" and t is not None)
    followed = told.topic_ids - muted
    weights = {t: w for t, w in topic_weights(followed, kinds, area_weight).items() if t not in muted}
    paper_marks: list[Marked] = []
    for kind, pid, _ in told.feedback:
        if kind in ("more", "less", "seed") and pid is not None and pid in marked:
            m = marked[pid]
            paper_marks.append(
                Marked(pid, kind, m.title, vectors.get(pid), tuple(sorted(m.topics)), m.authors)
            )
    interest = told.interest
    if interest is not None and vectors:
        dim = len(next(iter(vectors.values())))
        if len(interest) != dim:
            interest = None  # a vector of another model: recomputed at the next build
    return Profile(
        topic_ids=frozenset(weights),
        topic_weights=weights,
        muted_topic_ids=muted,
        keywords=told.keywords,
        exclude=told.exclude,
        interest=interest,
        interest_label=told.interest_text,
        liked=[(m.vector, m.title) for m in paper_marks if m.liked and m.vector is not None],
        disliked=[m.vector for m in paper_marks if m.kind == "less" and m.vector is not None],
        learned=learn(interest, paper_marks),
        marks=[
            (
                m.liked,
                Candidate(
                    paper_id=m.paper_id,
                    title=m.title,
                    text=f"{m.title} {marked[m.paper_id].abstract}",
                    abstract=marked[m.paper_id].abstract,
                    topics=marked[m.paper_id].topics,
                    authors=m.authors,
                ),
                m.vector,
            )
            for m in paper_marks
        ],
        authors=told.authors,
        interests=list(told.interests),
        max_papers=told.max_papers,
        include_trending=told.include_trending,
        include_likely=told.include_likely,
    )


def vector_of(blob: bytes | None) -> Vector | None:
    return None if not blob else np.frombuffer(blob, dtype=np.float32)


def dedupe(values: Sequence[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for v in values if v))
