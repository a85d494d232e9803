"""Turning Paper rows into cards: topic chips in one query, links and summaries from raw records."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from app.browse.inputs import identifier
from app.browse.types import PaperCard, TopicChip, TrendChance
from app.early.queries import predictions
from app.models import Paper, PaperTopic, Topic
from app.models.statuses import TopicStatus

HF_PAPER_URL = "https://huggingface.co/papers/{}"
CHIPS_PER_CARD = 3


def visible_topic() -> ColumnElement[bool]:
    """Topics the public sees: not hidden by the operator and not merged into another."""
    return and_(Topic.hidden.is_(False), Topic.status != TopicStatus.MERGED)


def chip(topic: Topic, score: float | None = None, *, parent_slug: str | None = None) -> TopicChip:
    return TopicChip(
        id=topic.id,
        slug=topic.slug,
        label=topic.label,
        kind=topic.kind,
        status=topic.status,
        momentum=float(topic.momentum or 0.0),
        trend_state=topic.trend_state or "steady",
        score=score,
        parent_id=topic.parent_id,
        parent_slug=parent_slug,
    )


def parent_slugs(session: Session, parent_ids: Iterable[int | None]) -> dict[int, str]:
    """Slugs of the areas above these subtopics (one query), whatever their status."""
    ids = sorted({i for i in parent_ids if i is not None})
    if not ids:
        return {}
    return {tid: slug for tid, slug in session.execute(select(Topic.id, Topic.slug).where(Topic.id.in_(ids)))}


def _hf_record(raw: dict[str, Any] | None) -> dict[str, Any]:
    record = (raw or {}).get("hf_daily") or (raw or {}).get("hf") or {}
    if isinstance(record, dict) and isinstance(record.get("paper"), dict):
        return {**record, **record["paper"]}
    return record if isinstance(record, dict) else {}


def hf_summary(raw: dict[str, Any] | None) -> str | None:
    value = _hf_record(raw).get("ai_summary")
    return value.strip() if isinstance(value, str) and value.strip() else None


def hf_url(paper: Paper) -> str | None:
    if not paper.arxiv_id:
        return None
    if paper.hf_date or _hf_record(paper.raw) or paper.upvotes is not None:
        return HF_PAPER_URL.format(paper.arxiv_id)
    return None


def to_card(
    paper: Paper,
    *,
    topics: Sequence[TopicChip] = (),
    score: float | None = None,
    components: dict[str, Any] | None = None,
    rank: int | None = None,
    trend: TrendChance | None = None,
) -> PaperCard:
    abs_url = paper.abs_url or (f"https://arxiv.org/abs/{paper.arxiv_id}" if paper.arxiv_id else None)
    pdf_url = paper.pdf_url or (f"https://arxiv.org/pdf/{paper.arxiv_id}" if paper.arxiv_id else None)
    return PaperCard(
        id=paper.id,
        public_id=paper.public_id,
        arxiv_id=paper.arxiv_id,
        arxiv_version=paper.arxiv_version,
        title=" ".join((paper.title or "").split()),
        authors=tuple(str(a) for a in (paper.authors or [])),
        abstract=(paper.abstract or "").strip(),
        summary=hf_summary(paper.raw),
        primary_category=paper.primary_category,
        categories=tuple(str(c) for c in (paper.categories or [])),
        published_at=paper.published_at,
        updated_at=paper.updated_at_source,
        announced_date=paper.announced_date,
        abs_url=abs_url,
        pdf_url=pdf_url,
        code_url=paper.code_url,
        project_url=paper.project_url,
        hf_url=hf_url(paper),
        upvotes=paper.upvotes,
        comments_count=paper.comments_count,
        github_stars=paper.github_stars,
        comment=paper.comment,
        topics=tuple(topics),
        score=score,
        components=dict(components or {}),
        rank=rank,
        trend=trend,
    )


def trend_chances(session: Session, papers: Sequence[Paper]) -> dict[int, TrendChance]:
    """Early-trending predictions of these papers (one query for the whole page)."""
    by_id = {p.id: p for p in papers}
    out = {}
    for paper_id, (prediction, model) in predictions(session, by_id).items():
        paper = by_id[paper_id]
        out[paper_id] = TrendChance(
            probability=float(prediction.probability),
            reasons=tuple(str(r.get("text", "")) for r in prediction.reasons or () if r.get("text")),
            reliability=prediction.reliability,
            reliability_note=prediction.reliability_note or "",
            model=model.name,
            model_kind=model.kind,
            cutoff=model.cutoff,
            featured=bool(paper.hf_date or paper.hf_listed),
        )
    return out


def topics_for(
    session: Session, paper_ids: Iterable[int], *, per_paper: int | None = CHIPS_PER_CARD
) -> dict[int, list[TopicChip]]:
    """Visible topics of each paper, best-scoring first (one query for the whole page)."""
    ids = list(set(paper_ids))
    if not ids:
        return {}
    rows = session.execute(
        select(PaperTopic.paper_id, PaperTopic.score, Topic)
        .join(Topic, Topic.id == PaperTopic.topic_id)
        .where(PaperTopic.paper_id.in_(ids), visible_topic())
        .order_by(PaperTopic.paper_id, PaperTopic.score.desc(), Topic.id)
    ).all()
    parents = parent_slugs(session, (topic.parent_id for _, _, topic in rows))
    out: dict[int, list[TopicChip]] = defaultdict(list)
    for paper_id, score, topic in rows:
        # A subtopic and a technique may share a name ("Quantization" in one area and across areas):
        # a card shows the name once, with the better-scoring topic.
        if any(c.label == topic.label for c in out[paper_id]):
            continue
        if per_paper is None or len(out[paper_id]) < per_paper:
            out[paper_id].append(chip(topic, float(score), parent_slug=parents.get(topic.parent_id or 0)))
    return out


def cards_for(
    session: Session,
    papers: Sequence[Paper],
    *,
    scores: dict[int, tuple[float, dict[str, Any]]] | None = None,
    first_rank: int | None = None,
) -> list[PaperCard]:
    """Cards for papers in the given order, with their topic chips and optional scores."""
    chips = topics_for(session, (p.id for p in papers))
    chances = trend_chances(session, papers)
    cards = []
    for i, paper in enumerate(papers):
        score, components = (scores or {}).get(paper.id, (None, {}))
        cards.append(
            to_card(
                paper,
                topics=chips.get(paper.id, []),
                score=score,
                components=components,
                rank=None if first_rank is None else first_rank + i,
                trend=chances.get(paper.id),
            )
        )
    return cards


def find_paper(session: Session, public_id: str) -> Paper | None:
    """A paper by its public id: an arXiv id (with or without version) or `source:source_id`."""
    key = identifier(public_id).strip()
    if not key:
        return None
    paper = session.scalar(select(Paper).where(Paper.arxiv_id == key))
    if paper is None:
        base = _strip_version(key)
        if base != key:
            paper = session.scalar(select(Paper).where(Paper.arxiv_id == base))
    if paper is None and ":" in key:
        source, source_id = key.split(":", 1)
        paper = session.scalar(select(Paper).where(Paper.source == source, Paper.source_id == source_id))
    return paper


def _strip_version(arxiv_id: str) -> str:
    head, sep, tail = arxiv_id.rpartition("v")
    return head if sep and head and tail.isdigit() else arxiv_id
